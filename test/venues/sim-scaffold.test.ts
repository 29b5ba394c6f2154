// The shared pieces of the simulated venues: the seeded binary-outcome market and the loopback scaffold.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Faults, parseFaults, SimServer } from '../../src/venues/common/sim-server.js';
import { SyntheticBinaryMarket } from '../../src/venues/common/synthetic-binary.js';

describe('synthetic binary market', () => {
  it('is the same walk for the same seed, and YES bid + NO bid stays below 1 at every step', () => {
    const make = () => new SyntheticBinaryMarket({ seed: 3, payoutTicks: 10_000, tickTicks: 100, sizeLots: 50 });
    const a = make();
    const b = make();
    const probs = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const s = a.step();
      expect(b.step()).toEqual(s);
      probs.add(s.probTicks);
      const yesBid = s.yes.bids[0]![0];
      const noBid = s.no.bids[0]![0];
      expect(yesBid + noBid).toBeLessThan(10_000);
      expect(s.no.asks[0]![0]).toBe(10_000 - yesBid);
      expect(s.yes.asks[0]![0] - s.yes.bids[0]![0]).toBe(200);
      for (const [p] of [...s.yes.bids, ...s.yes.asks, ...s.no.bids, ...s.no.asks]) expect(p % 100 === 0 && p > 0 && p < 10_000).toBe(true);
    }
    expect(probs.size).toBeGreaterThan(5);
  });
});

describe('sim server scaffold', () => {
  it('serves JSON routes and WebSocket paths on one loopback port, drops a lost ack, and closes', async () => {
    const s = await SimServer.start({
      http: (req) => (req.path === '/lost' ? { destroy: true } : { status: 200, body: { method: req.method, path: req.path, q: req.query.get('a'), body: req.body } }),
      ws: (socket, url) => socket.send(JSON.stringify({ path: url.pathname })),
    });
    try {
      const r = await fetch(`${s.urls.rest}/x?a=1`, { method: 'POST', body: 'hi' });
      expect(await r.json()).toEqual({ method: 'POST', path: '/x', q: '1', body: 'hi' });
      await expect(fetch(`${s.urls.rest}/lost`)).rejects.toThrow();
      const ws = new WebSocket(`${s.urls.ws}/ws/user`);
      const msg = await new Promise<string>((resolve, reject) => {
        ws.once('message', (m) => resolve(m.toString()));
        ws.once('error', reject);
      });
      expect(JSON.parse(msg)).toEqual({ path: '/ws/user' });
      ws.close();
    } finally {
      await s.close();
    }
  });

  it('faults: parsed against the known names, seeded, and once-only hits', () => {
    expect(() => parseFaults('nope:1', { drop: 0 })).toThrow(/unknown fault "nope"/);
    expect(() => parseFaults('drop:2', { drop: 0 })).toThrow(/probability/);
    const f = new Faults({ 'lose-ack': 0, 'delay-ack': 500 }, 'delay-ack:0');
    expect(f.hit('delay-ack')).toBeNull();
    f.set(undefined, ['lose-ack']);
    expect(f.hit('lose-ack')).toBe(0);
    expect(f.hit('lose-ack')).toBeNull();
    f.set('delay-ack:1:250');
    expect(f.hit('delay-ack')).toBe(250);
    expect(f.counts).toEqual({ 'lose-ack': 1, 'delay-ack': 1 });
  });
});
