import { createRouter, createWebHistory } from 'vue-router';
import { ApiError, request } from '../api';
import { landing, session, signOut } from './session';
import ConsoleLayout from './ConsoleLayout.vue';
import SignInPage from './pages/SignInPage.vue';
import HomePage from './pages/HomePage.vue';
import AccountsPage from './pages/AccountsPage.vue';
import SubscribersPage from './pages/SubscribersPage.vue';
import NoticesPage from './pages/NoticesPage.vue';
import NoticeComposePage from './pages/NoticeComposePage.vue';
import NoticeDetailPage from './pages/NoticeDetailPage.vue';
import TicketsPage from './pages/TicketsPage.vue';
import TicketPage from './pages/TicketPage.vue';
import HotBoardPage from './pages/HotBoardPage.vue';
import UnansweredPage from './pages/UnansweredPage.vue';
import ReportPage from './pages/ReportPage.vue';
import ReportPrintPage from './pages/ReportPrintPage.vue';
import PeoplePage from './pages/PeoplePage.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Only admins see the page (the API refuses the others anyway). */
    admin?: boolean;
    /** Only staff and admins see the page. */
    staff?: boolean;
    /** Only agents and admins see the page (the tickets). */
    agent?: boolean;
    /** The page's name in the browser tab. */
    title?: string;
  }
}

/**
 * The console's pages under /console/ (history mode: the gateway answers every /console/... path
 * with the console's index.html). Only pages that work are listed: later issues add theirs.
 */
export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', name: 'login', component: SignInPage, meta: { title: '登录' } },
    {
      path: '/',
      component: ConsoleLayout,
      children: [
        { path: '', name: 'home', component: HomePage, meta: { title: '首页' } },
        { path: 'tickets', name: 'tickets', component: TicketsPage, meta: { title: '工单', agent: true } },
        { path: 'tickets/:id', name: 'ticket', component: TicketPage, props: true, meta: { title: '工单', agent: true } },
        { path: 'subscribers', name: 'subscribers', component: SubscribersPage, meta: { title: '纳税人', staff: true } },
        { path: 'notices', name: 'notices', component: NoticesPage, meta: { title: '通知', staff: true } },
        { path: 'notices/new', name: 'notice-new', component: NoticeComposePage, meta: { title: '新建通知', staff: true } },
        { path: 'notices/:id', name: 'notice', component: NoticeDetailPage, meta: { title: '通知', staff: true } },
        { path: 'hot', name: 'hot', component: HotBoardPage, meta: { title: '热搜榜', staff: true } },
        { path: 'unanswered', name: 'unanswered', component: UnansweredPage, meta: { title: '待解答', staff: true } },
        { path: 'report', name: 'report', component: ReportPage, meta: { title: '服务报告', staff: true } },
        { path: 'people', name: 'people', component: PeoplePage, meta: { title: '个人信息', staff: true } },
        { path: 'accounts', name: 'accounts', component: AccountsPage, meta: { title: '账号管理', admin: true } },
      ],
    },
    // Outside the console's frame: a page laid out for paper.
    { path: '/report/print', name: 'report-print', component: ReportPrintPage, meta: { title: '打印服务报告', staff: true } },
    { path: '/:rest(.*)*', redirect: { name: 'home' } },
  ],
});

/** Why the sign-in page is shown: the token stopped working, or the server could not be reached. */
export type SignInReason = 'expired' | 'unreachable';

router.beforeEach(async (to) => {
  if (to.name === 'login') return session.me ? landing(session.me.role) : true;
  if (!session.token) return { name: 'login', query: to.fullPath === '/' ? {} : { next: to.fullPath } };
  if (!session.me) {
    // A reload: the token is in sessionStorage, the account is asked for again.
    try {
      session.me = await request('/api/me', { token: session.token });
    } catch (err) {
      signOut();
      const reason: SignInReason = err instanceof ApiError && err.status === 401 ? 'expired' : 'unreachable';
      return { name: 'login', query: { reason } };
    }
  }
  if (to.meta.admin && session.me?.role !== 'admin') return { name: 'home' };
  if (to.meta.staff && session.me?.role === 'agent') return { name: 'home' };
  if (to.meta.agent && session.me?.role === 'staff') return { name: 'home' };
  return true;
});

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · 春风控制台` : '春风控制台';
});
