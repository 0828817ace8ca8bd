/**
 * One POST of a webhook: the target checked again at connect time (guardedLookup for a name, the
 * literal itself for an address), no redirect followed (a 3xx is a failed attempt: a redirect
 * could point anywhere), a deadline for the whole exchange, and at most 64 KiB of the answer read.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { messageOf } from '../core/errors.js';
import { guardedLookup, isPrivateAddress, privateTargetError, targetHost, type Resolve } from './target.js';

export interface PostResult {
  /** The HTTP status; null when none came. */
  statusCode: number | null;
  /** Why it did not count as delivered (null for a 2xx). */
  error: string | null;
}

export interface PostOptions {
  allowPrivateTargets: boolean;
  timeoutMs: number;
  resolve?: Resolve;
}

export type PostWebhook = (url: string, headers: Record<string, string>, body: string, options: PostOptions) => Promise<PostResult>;

const MAX_ANSWER = 64 * 1024;

export const postWebhook: PostWebhook = (target, headers, body, options) =>
  new Promise((resolve) => {
    const url = new URL(target);
    const host = targetHost(url);
    if (!options.allowPrivateTargets && isIP(host) !== 0 && isPrivateAddress(host)) {
      resolve({ statusCode: null, error: privateTargetError(host, host).message });
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (result: PostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'relaygate-webhooks' },
      lookup: guardedLookup(options.allowPrivateTargets, options.resolve),
      agent: false,
    }, (res: IncomingMessage) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER) res.destroy();
      });
      const status = res.statusCode ?? null;
      const done = (): void => finish({ statusCode: status, error: status !== null && status >= 200 && status < 300 ? null : `HTTP ${status}` });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ statusCode: null, error: `no answer within ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    req.on('error', (err) => finish({ statusCode: null, error: messageOf(err) }));
    req.end(body);
  });
