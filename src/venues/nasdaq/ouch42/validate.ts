/**
 * Known values of the OUCH 4.2 one-character code fields, and a check of a decoded record against
 * them. Decoding never rejects an unknown code (Nasdaq adds codes within a version); whoever acts on
 * a message (the simulated venue, the adapter) calls validateOuch first.
 * Sources: OMI Nasdaq.Equities.Orders.Ouch.v4.2.h enums, wireshark packet-ouch.c value tables,
 * i01 OUCH42 Types.hpp (reject reasons).
 */
import { TapedeckError } from '../../../../domain/core/errors.js';
import type { OuchMessage } from './messages.js';

export const SIDES = { B: 'buy', S: 'sell', T: 'sell short', E: 'sell short exempt' } as const;

export const CANCEL_REASONS: Record<string, string> = {
  U: 'user requested cancel',
  I: 'immediate or cancel order',
  T: 'timeout',
  S: 'supervisory',
  D: 'regulatory restriction',
  Q: 'self-match prevention',
  Z: 'system cancel',
  C: 'cross canceled',
  K: 'order cannot be executed',
  H: 'halted',
  X: 'open protection',
  E: 'closed',
  F: 'post-only cancel',
  G: 'post-only cancel (displayed price)',
};

export const REJECT_REASONS: Record<string, string> = {
  T: 'test mode',
  H: 'halted',
  Z: 'shares exceed the configured safety threshold',
  S: 'invalid stock',
  D: 'invalid display type',
  C: 'Nasdaq is closed',
  L: 'firm not authorized for the requested clearing type',
  M: 'outside permitted times for the clearing type',
  R: 'order not allowed in this type of cross',
  X: 'invalid price',
  N: 'invalid minimum quantity',
  O: 'other',
  W: 'invalid mid-point post-only price',
  a: 'reject all enabled',
  b: 'easy to borrow reject',
  c: 'restricted symbol list reject',
  d: 'ISO order restriction',
  e: 'odd lot order restriction',
  f: 'mid-point order restriction',
  g: 'pre-market order restriction',
  h: 'post-market order restriction',
  i: 'short sale order restriction',
  j: 'on open order restriction',
  k: 'on close order restriction',
  l: 'two sided quote reject',
  m: 'exceeded shares limit',
  n: 'exceeded dollar value limit',
};

export const BROKEN_TRADE_REASONS: Record<string, string> = { E: 'erroneous', C: 'consent', S: 'supervisory', X: 'external' };

const FIELD_CODES: Record<string, string> = {
  side: 'BSTE',
  display: 'AYNPIMWLOTQmnR',
  capacity: 'APRO',
  intermarketSweepEligibility: 'YNy',
  crossType: 'NOCHSREI',
  customerType: 'RN ',
  orderState: 'LD',
  eventCode: 'SE',
  bboWeightIndicator: '0123SN ',
};

const REASON_CODES: Record<string, Record<string, string>> = {
  Canceled: CANCEL_REASONS,
  AiqCanceled: CANCEL_REASONS,
  Rejected: REJECT_REASONS,
  BrokenTrade: BROKEN_TRADE_REASONS,
  TradeCorrection: BROKEN_TRADE_REASONS,
};

const TEXT_FIELDS = ['orderToken', 'existingOrderToken', 'replacementOrderToken', 'previousOrderToken', 'stock', 'firm'];

/** Returns the first problem with a record's codes or text fields, or null when it is well-formed. */
export function validateOuch(msg: OuchMessage): TapedeckError | null {
  const rec = msg as unknown as Record<string, unknown>;
  for (const [field, allowed] of Object.entries(FIELD_CODES)) {
    const v = rec[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.length !== 1 || !allowed.includes(v)) {
      return new TapedeckError('OUCH_CODE', `${msg.kind}.${field}: unknown code ${JSON.stringify(v)} (known: ${[...allowed].map((x) => JSON.stringify(x)).join(' ')})`, { field: `${msg.kind}.${field}` });
    }
  }
  const reasons = REASON_CODES[msg.kind];
  if (reasons) {
    const v = rec.reason;
    if (typeof v !== 'string' || !(v in reasons)) {
      return new TapedeckError('OUCH_CODE', `${msg.kind}.reason: unknown code ${JSON.stringify(v)}`, { field: `${msg.kind}.reason` });
    }
  }
  for (const field of TEXT_FIELDS) {
    const v = rec[field];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !/^[\x21-\x7e][\x20-\x7e]*$|^$/.test(v)) {
      return new TapedeckError('OUCH_TEXT', `${msg.kind}.${field}: ${JSON.stringify(v)} is not printable ASCII`, { field: `${msg.kind}.${field}` });
    }
  }
  return null;
}

export function describeCode(table: Record<string, string>, code: string): string {
  return table[code] ?? `unknown code ${JSON.stringify(code)}`;
}
