/**
 * The Kafka tests' broker: a real one, started by scripts/kafka-local.sh (.ci/run starts one and exports
 * KAFKA_BROKERS). In CI (CI=true) a missing or unreachable broker FAILS the Kafka tests; locally they
 * print one line saying they did not run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { CLI } from './cli.js';
import { repoRoot } from './tmp.js';

export const KAFKA_SCRIPT = path.join(repoRoot, 'scripts/kafka-local.sh');
export const brokers = process.env.KAFKA_BROKERS ?? '';
export const inCi = process.env.CI === 'true' || process.env.CI === '1';
/** Whether the Kafka suites run: always in CI (they fail there without a broker), else when a broker is named. */
export const runKafka = brokers !== '' || inCi;

export function notRunLine(file: string): void {
  if (!runKafka) process.stdout.write(`${file}: NOT RUN: no Kafka broker (start one: scripts/kafka-local.sh start, then KAFKA_BROKERS=<address>)\n`);
}

/** Throws (failing the test) when the broker cannot be reached. */
export async function assertBrokerReachable(list = brokers): Promise<void> {
  if (list === '') throw new Error('KAFKA_BROKERS is not set: in CI, .ci/run starts the broker (scripts/kafka-local.sh) and exports it');
  const [host, port] = list.split(',')[0]!.split(':');
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host: host!, port: Number(port) }, () => {
      s.end();
      resolve();
    });
    s.setTimeout(3000, () => {
      s.destroy();
      reject(new Error(`Kafka broker ${list} did not answer within 3 s`));
    });
    s.on('error', (e) => reject(new Error(`Kafka broker ${list} is not reachable: ${e.message}`)));
  });
}

/** Runs scripts/kafka-local.sh with its own state directory; resolves with stdout. */
export function kafkaScript(command: 'start' | 'stop' | 'crash' | 'reset' | 'address', state: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [KAFKA_SCRIPT, command], { env: { ...process.env, KAFKA_STATE: state }, cwd: repoRoot });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`kafka-local.sh ${command} exited ${code}: ${err}`))));
  });
}

/** A long-running CLI process (a worker) whose JSON lines are collected as they come. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly lines: any[] = [];
  stderr = '';
  readonly exited: Promise<number>;
  private waiters: Array<() => void> = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, env: { ...process.env } });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line !== '') this.lines.push(JSON.parse(line));
        for (const w of this.waiters.splice(0)) w();
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      for (const w of this.waiters.splice(0)) w();
      resolve(code ?? (signal ? 128 : -1));
    }));
  }

  /** Waits for a line matching `pred` (rejects if the process exits first or after `timeoutMs`). */
  async waitFor(pred: (line: any) => boolean, timeoutMs = 60_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit !== undefined) return hit;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`process exited (${this.child.exitCode ?? this.child.signalCode}) before the expected line; stderr: ${this.stderr}`);
      if (Date.now() > until) throw new Error(`timed out waiting; lines so far: ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Polls `cond`; an error (a broker still restarting: "not the correct coordinator") counts as "not yet". */
export async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      if (await cond()) return;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
