/**
 * The RADIUS authentication metrics: an accept, a reject, a time-out with
 * its retransmission, and a reply with a wrong secret, counted as they
 * happened; the exposition passes `promtool check metrics`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { signResponse } from '../../src/crypto/radius.js';
import type { RadiusClientAction } from '../../src/radius/radius-client.js';
import { RadiusAuthenticator } from '../../src/server/radius-auth.js';
import { registerRadiusAuthMetrics } from '../../src/server/radius-metrics.js';
import {
  decodeRadius,
  encodeRadius,
  octetsAttribute,
  RadiusAttr,
  RadiusCode,
  textAttribute,
} from '../../src/wire/radius/index.js';
import { checkMetricsWithPromtool } from '../helpers/tools.js';
import { CapturingLogger, seededRandom } from '../ppp/auth/harness.js';

const SECRET = 'metrics-secret';

function value(text: string, name: string, labels = ''): number {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${esc(name)}${labels ? esc(`{${labels}}`) : ''} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${name}{${labels}} in:\n${text}`);
  return Number(m[1]);
}

describe('RADIUS authentication metrics', () => {
  it('count requests by result, retransmits, dropped replies and latency; promtool accepts them', async () => {
    const auth = new RadiusAuthenticator({
      servers: [{ host: '127.0.0.1', port: 1812, secret: SECRET }],
      order: ['radius'],
      nasIdentifier: 'nas',
      timeoutMs: 1000,
      retries: 1,
      deadTimeMs: 0,
      maxOutstanding: 8,
      secrets: () => undefined,
      secretsPolicy: () => undefined,
      log: new CapturingLogger(),
      random: seededRandom(5),
    });
    let now = 0;
    const sent: Uint8Array[] = [];
    const perform = (actions: readonly RadiusClientAction[]) => {
      for (const a of actions) {
        if (a.type === 'send') sent.push(a.data.slice());
        else auth.onAction(a);
      }
    };
    auth.connect({ now: () => now, perform });
    const registry = new Registry();
    auth.onResult = registerRadiusAuthMetrics(registry, () => auth);
    const answer = (code: RadiusCode, secret = SECRET) => {
      const req = decodeRadius(sent.at(-1)!);
      const data = encodeRadius({
        code,
        identifier: req.identifier,
        attributes: [octetsAttribute(RadiusAttr.MessageAuthenticator, new Uint8Array(16))],
      });
      signResponse(data, secret, req.authenticator);
      perform(auth.engine.receive(now, 0, data));
    };
    const request = {
      code: RadiusCode.AccessRequest,
      attributes: [textAttribute(RadiusAttr.UserName, 'a')],
    } as const;
    const results: string[] = [];

    auth.submit(request, (o) => results.push(o.type));
    now += 20;
    answer(RadiusCode.AccessAccept);
    auth.submit(request, (o) => results.push(o.type));
    now += 30;
    answer(RadiusCode.AccessReject);
    auth.submit(request, (o) => results.push(o.type));
    answer(RadiusCode.AccessAccept, 'wrong-secret'); // dropped; the request keeps waiting
    now += 1000;
    perform(auth.engine.poll(now)); // retransmission
    now += 1000;
    perform(auth.engine.poll(now)); // time-out
    assert.deepEqual(results, ['reply', 'reply', 'failed']);

    const text = await registry.metrics();
    assert.equal(value(text, 'pptp_radius_auth_requests_total', 'result="accept"'), 1);
    assert.equal(value(text, 'pptp_radius_auth_requests_total', 'result="reject"'), 1);
    assert.equal(value(text, 'pptp_radius_auth_requests_total', 'result="timeout"'), 1);
    assert.equal(value(text, 'pptp_radius_auth_requests_total', 'result="overloaded"'), 0);
    assert.equal(value(text, 'pptp_radius_auth_retransmits_total'), 1);
    assert.equal(value(text, 'pptp_radius_auth_replies_dropped_total', 'reason="bad-authenticator"'), 1);
    assert.equal(value(text, 'pptp_radius_auth_request_duration_seconds_count'), 3);
    assert.equal(value(text, 'pptp_radius_auth_request_duration_seconds_bucket', 'le="0.025"'), 1);
    assert.equal(value(text, 'pptp_radius_auth_request_duration_seconds_bucket', 'le="0.05"'), 2);
    assert.equal(value(text, 'pptp_radius_auth_request_duration_seconds_bucket', 'le="2.5"'), 3);

    checkMetricsWithPromtool(text);
  });
});
