/**
 * The gateway as `chunfeng serve` runs it (buildServer, listen), for tests that kill it with
 * SIGKILL: configured from the environment, with the dispatcher's timings and the sending limits
 * given as JSON in CHUNFENG_TEST_DISPATCH and CHUNFENG_TEST_LIMITS and the notice job's period in
 * CHUNFENG_TEST_NOTICE_JOB. Tells its parent the port once it listens.
 */
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';

const config = loadConfig(process.env);
const json = (name: string): Record<string, unknown> | undefined => (process.env[name] ? (JSON.parse(process.env[name] as string) as Record<string, unknown>) : undefined);
const server = await buildServer(config, { dispatch: json('CHUNFENG_TEST_DISPATCH'), limits: json('CHUNFENG_TEST_LIMITS'), noticeJob: json('CHUNFENG_TEST_NOTICE_JOB') }, process.env.TEST_LOG ? 'stdout' : false);
await server.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (server.server.address() as AddressInfo).port });
