import { createApp } from 'vue';
import TryApp from './TryApp.vue';
import '../base.css';

createApp(TryApp).mount('#app');
