import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDecimal } from '../../domain/core/fixed.js';
import { auditOrder, decodeRaw } from '../../projections/audit.js';
import { openDb, queryRows } from '../../projections/db.js';
import { projectStore } from '../../projections/catchup.js';
import { encodeOuch } from '../../src/venues/nasdaq/ouch42/codec.js';
import { itchPrefix } from '../helpers/capture.js';
import { tapedeck } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir('tapedeck-audit-');
const store = path.join(tmp.dir, 'store');
// The first 2,400 of the sample's 12,000 messages: the market maker quotes the same instrument and makes the
// same 10 orders and 10 fills as over the whole file (what an audit shows is one order and its cause), at a
// fifth of the replay and of the catch-up; the full file's replay is in test/kernel/itch-coinbase-parity.test.ts.
const ITCH = itchPrefix(path.join(datasetsDir, 'itch/ritch_ex20101224.TEST_ITCH_50'), 2400, path.join(tmp.dir, 'itch'));
afterAll(() => tmp.cleanup());

beforeAll(() => {
  const r = tapedeck(['replay', ITCH, '--strategy', 'market-maker', '--store', store, '--json']);
  expect(r.code, r.stderr).toBe(0);
});

describe('tapedeck audit', () => {
  it('shows the ITCH message that caused the order (decoded), hashes, risk, venue messages, fills and the position around them', async () => {
    await projectStore(store);
    const db = await openDb(path.join(store, 'projections.duckdb'), { readOnly: true });
    let orderId = '';
    try {
      const [o] = await queryRows(db.con, `SELECT order_id FROM orders WHERE fill_count > 0 ORDER BY intended_position LIMIT 1`);
      orderId = String(o!.order_id);
    } finally {
      db.close();
    }
    const r = await auditOrder(store, orderId);
    // the cause is a market input with its ITCH bytes, decoded by the ITCH codec
    expect(r.cause).not.toBeNull();
    expect(r.cause!.role).toBe('input');
    expect(r.cause!.raw!.format).toBe('itch50');
    const decoded = r.cause!.raw!.decoded as Record<string, unknown>;
    expect(typeof decoded.messageType).toBe('string');
    const causeData = r.cause!.data as Record<string, unknown>;
    if (typeof causeData.priceTicks === 'number' && 'price' in decoded) expect(decoded.price).toBe(causeData.priceTicks);
    expect(r.decision.type).toBe('OrderIntended');
    expect((r.decision.data as any).decision.causeEventId).toBe(r.cause!.id);
    expect(r.decision.causationId).toBe(r.cause!.id);
    // strategy and config hashes as the run's manifest has them
    expect(r.strategy.configHash).toBe(r.run.config_hash);
    expect(r.strategy.codeHash).toMatch(/^[0-9a-f]{16,}$/);
    expect(r.stateHash).not.toBe('');
    expect(r.risk.outcome).toBe('approved');
    expect(r.risk.checks.length).toBeGreaterThan(0);
    expect(r.submission?.type).toBe('OrderSubmitted');
    expect(r.venueMessages.map((m) => m.type)).toContain('OrderFilled');
    expect(r.venueMessages.every((m) => m.position > r.decision.position)).toBe(true);
    // fills add up to the order's filled quantity, and the position moved by exactly that much
    const filled = r.fills.reduce((a, f) => a + parseDecimal(String(f.quantity), 18), 0n);
    expect(filled).toBe(parseDecimal(String(r.order.filled_quantity), 18));
    const before = r.positionBefore === null ? 0n : parseDecimal(String(r.positionBefore.quantity), 18);
    const after = parseDecimal(String(r.positionAfter!.quantity), 18);
    expect(after - before).toBe(r.order.side === 'buy' ? filled : -filled);
  });

  it('decodes OUCH bytes with the OUCH codec', () => {
    const bytes = encodeOuch({ kind: 'Executed', timestampNs: 1234n, orderToken: 'ABC123', executedShares: 100, executionPriceTicks: 1_234_500, liquidityFlag: 'A', matchNumber: 99n } as never);
    const d = decodeRaw({ format: 'ouch42', bytes }) as Record<string, unknown>;
    expect(d).toMatchObject({ direction: 'venue', kind: 'Executed', executedShares: 100, executionPriceTicks: 1_234_500, matchNumber: '99' });
    expect(String(d.orderToken).trim()).toBe('ABC123');
  });

  it('an unknown order id is one clear line and exit 2', () => {
    const r = tapedeck(['audit', '00000000-0000-8000-8000-000000000000', '--store', store, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/AUDIT_UNKNOWN_ORDER/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});
