import { ElMessage } from 'element-plus';
import 'element-plus/es/components/message/style/css';
import { ApiError } from '../api';

/** Says in a message what failed, unless the sign-in page has already taken over (a 401 signs out). */
export function showError(err: unknown, fallback = '操作失败，请稍后再试'): void {
  if (err instanceof ApiError && err.status === 401) return;
  ElMessage.error(err instanceof ApiError ? err.message : fallback);
}
