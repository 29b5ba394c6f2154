/**
 * Control inputs through the kernel (live mode, commands go out): a cancel-all cancels every working
 * order of its venue through risk and the lifecycle, and a kill switch set for one venue denies new
 * orders there while the global switch stays ACTIVE. Both are plain inputs, so a replay decides the same.
 */
import { describe, expect, it } from 'vitest';
import { makeEvent, type AnyEnvelope } from '../../domain/events/envelope.js';
import { initKernel, processInput, type KernelOutput } from '../../domain/kernel/kernel.js';
import { effectiveKillSwitch } from '../../domain/risk/risk.js';
import { kernelSetup } from '../../src/runtime/engine.js';

const VENUE = 'SIM';
const INSTR = 'SIM:BTCUSD';
const config = {
  strategy: 'market-maker', seed: 1, venues: [], risk: {},
  params: { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, halfSpreadTicks: 1, requoteThresholdTicks: 1, maxInventoryLots: 6, sizeJitterLots: 0 },
};
let n = 0;
const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
function input<T extends Parameters<typeof makeEvent>[0]['type']>(type: T, data: unknown, t: bigint): AnyEnvelope {
  return makeEvent({ id: id(), type, stream: 'md', eventTimeNs: t, receiveTimeNs: t, data: data as never }) as AnyEnvelope;
}
const snapshot = (mid: number, t: bigint) => input('BookSnapshotted', { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, bids: [[mid - 1, 5]], asks: [[mid + 1, 5]] }, t);

describe('control inputs in the kernel', () => {
  it('cancel-all cancels every working order of the venue; a venue kill switch denies new orders there', () => {
    const k = initKernel(kernelSetup('11111111-1111-4111-8111-111111111111', config as never, true));
    const out: KernelOutput[] = [];
    processInput(k, snapshot(10_000, 1_000n), null, out);
    const submitted = out.flatMap((o) => (o.kind === 'command' && o.command.kind === 'SubmitOrder' ? [o.command.orderId] : []));
    expect(submitted.length).toBeGreaterThan(0);

    out.length = 0;
    processInput(k, input('CancelAllRequested', { venue: VENUE, reason: 'flatten', by: 'alice@127.0.0.1' }, 2_000n), null, out);
    const cancels = out.flatMap((o) => (o.kind === 'command' && o.command.kind === 'CancelOrder' ? [o.command.orderId] : []));
    expect(cancels).toEqual(submitted);
    const requested = out.flatMap((o) => (o.kind === 'event' && o.env.type === 'CancelRequested' ? [o.env] : []));
    expect(requested.map((e) => e.data.orderId)).toEqual(submitted);
    expect(requested.every((e) => e.data.reason === 'cancel-all by alice@127.0.0.1: flatten')).toBe(true);
    // Again: nothing more to cancel (a cancel is already in flight for each).
    out.length = 0;
    processInput(k, input('CancelAllRequested', { reason: 'again', by: 'alice' }, 3_000n), null, out);
    expect(out.filter((o) => o.kind === 'command')).toEqual([]);

    // The venue confirms the cancels.
    let t = 3_100n;
    for (const orderId of submitted) {
      processInput(k, input('OrderAccepted', { orderId, venueOrderId: `v-${orderId.slice(-4)}` }, t++), null, out);
      processInput(k, input('OrderCanceled', { orderId, canceledLots: k.orders.orders.get(orderId)!.leavesLots }, t++), null, out);
    }
    expect(submitted.every((o) => k.orders.orders.get(o)!.status === 'canceled')).toBe(true);

    out.length = 0;
    processInput(k, input('KillSwitchChanged', { state: 'HALTED', venue: VENUE, reason: 'venue maintenance', by: 'bob' }, 4_000n), null, out);
    expect(k.risk.killSwitch).toBe('ACTIVE');
    expect(effectiveKillSwitch(k.risk, VENUE)).toMatchObject({ state: 'HALTED', reason: 'venue maintenance' });
    expect(effectiveKillSwitch(k.risk, 'OTHER').state).toBe('ACTIVE');
    out.length = 0;
    processInput(k, snapshot(10_050, 5_000n), null, out);
    expect(out.filter((o) => o.kind === 'command' && o.command.kind === 'SubmitOrder')).toEqual([]);
    const denied = out.flatMap((o) => (o.kind === 'event' && o.env.type === 'RiskDenied' ? [o.env.data] : []));
    expect(denied.length).toBeGreaterThan(0);
    expect(denied[0]).toMatchObject({ code: 'KILL_SWITCH' });
    expect(denied[0]!.detail).toMatch(/HALTED for SIM \(venue maintenance\)/);
  });
});
