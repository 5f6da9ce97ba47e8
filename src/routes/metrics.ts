import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ChunfengError } from '../errors.js';
import { secretCheck } from '../plugins/auth.js';

/** Options: METRICS_TOKEN from the configuration. */
export interface MetricsRouteOptions {
  readonly token: string | null;
}

/** Whether an address is this host's own (127.0.0.0/8, ::1, and IPv4 loopback written as IPv6). */
function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/**
 * Whether the request comes straight from this host: the connection's own peer, not the client a
 * proxy names, and not relayed by a proxy on this host (which would add X-Forwarded-For).
 */
function fromThisHost(request: FastifyRequest): boolean {
  return isLoopback(request.socket.remoteAddress) && request.headers['x-forwarded-for'] === undefined && request.headers.forwarded === undefined;
}

/**
 * GET /metrics for Prometheus. The figures tell how busy each channel is and when it fails, which is
 * nobody else's business: with METRICS_TOKEN set it needs `Authorization: Bearer <METRICS_TOKEN>`
 * (wrong tokens throttled like any other); without it, only connections from this host get it, and
 * anyone else a 404, as if it did not exist. So the Docker image, which listens on 0.0.0.0, shows
 * nothing to the network unless a token is configured, and the default (HOST=127.0.0.1) works as is.
 */
const metrics: FastifyPluginAsync<MetricsRouteOptions> = async (fastify, opts) => {
  const rightToken = opts.token ? secretCheck(opts.token) : null;
  fastify.get('/metrics', {
    schema: { summary: 'Prometheus 指标（设置 METRICS_TOKEN 时需 Bearer 令牌，否则只对本机开放）', tags: ['运维'] },
    onRequest: async (request, reply) => {
      if (rightToken) await fastify.bearer(request, reply, async (token) => (rightToken(token) ? true : null));
      else if (!fromThisHost(request)) throw new ChunfengError('NOT_FOUND');
    },
  }, async (_request, reply) => reply.type(fastify.metrics.registry.contentType).send(await fastify.metrics.registry.metrics()));
};

export default metrics;
