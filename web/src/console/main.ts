import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router';
import { onExpired } from './session';
import '../base.css';

onExpired(() => {
  void router.replace({ name: 'login', query: { reason: 'expired' } });
});

createApp(App).use(router).mount('#app');
