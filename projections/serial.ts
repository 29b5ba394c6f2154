/**
 * Tagged JSON for projector state kept in the database between runs: bigint and Map survive the round
 * trip exactly (`{"$b":"123"}`, `{"$m":[[k,v],...]}`), so a restarted projector continues from the very
 * state it stopped with.
 */
export function stringifyState(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
    if (typeof v === 'bigint') return { $b: v.toString() };
    if (v instanceof Map) return { $m: [...v.entries()] };
    if (v instanceof Set) return { $s: [...v.values()] };
    return v;
  });
}

export function parseState<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1) {
        if (keys[0] === '$b' && typeof o.$b === 'string') return BigInt(o.$b);
        if (keys[0] === '$m' && Array.isArray(o.$m)) return new Map(o.$m as Array<[unknown, unknown]>);
        if (keys[0] === '$s' && Array.isArray(o.$s)) return new Set(o.$s as unknown[]);
      }
    }
    return v;
  }) as T;
}
