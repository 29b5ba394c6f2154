/**
 * One worker thread of a partitioned replay (partitioned.ts): runs its instruments' kernels over the
 * shared day and posts back their outputs. An error goes back as a value (code and message), so the
 * caller reports it as the TapedeckError it was.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TapedeckError } from '../../domain/core/errors.js';
import { runPartitionSet, type PartitionWorkerInput, type PartitionWorkerOutput } from './partitioned.js';

const input = workerData as PartitionWorkerInput;
let answer: PartitionWorkerOutput;
try {
  answer = { ok: true, result: runPartitionSet(new Uint8Array(input.day, input.offset, input.length), input.request) };
} catch (e) {
  answer = e instanceof TapedeckError ? { ok: false, code: e.code, message: e.message } : { ok: false, code: 'PARTITION_FAILED', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}
parentPort!.postMessage(answer);
