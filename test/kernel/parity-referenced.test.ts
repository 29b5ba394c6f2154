/**
 * Parity of a run that references its inputs (InputsReferenced) and stopped before the end of its
 * dataset: only the inputs the run read (RunEnded.events) are re-fed, and a divergence names its input by
 * number among the referenced inputs. In process (the CLI side is test/kernel/referenced-inputs.test.ts).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogEventSource } from '../../datasets/catalog.js';
import { importDatasets } from '../../datasets/catalog/import.js';
import { datasetReference } from '../../datasets/catalog/reference.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { checkParity } from '../../replay/parity.js';
import { readConfigFile, resolveRunConfig } from '../../src/runtime/config.js';
import { runKernel } from '../../src/runtime/engine.js';
import { surveySource } from '../../src/runtime/sources.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';
import { storeView } from '../helpers/store.js';

describe('a run that references its inputs and stopped before the end of its dataset', () => {
  const tmp = tmpDir('td-parity-ref-');
  let runId = '';
  let read = 0;
  let refRecorded: RecordedEvent[] = [];
  beforeAll(async () => {
    const capture = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');
    const catalog = path.join(tmp.dir, 'catalog');
    const [imp] = await importDatasets(capture, { format: 'cryptofeed', catalog });
    const cfg = resolveRunConfig('momentum', readConfigFile(undefined), await surveySource(captureEventSource(capture)));
    const source = catalogEventSource(catalog, imp!.manifest.id);
    const all = imp!.manifest.rows.events;
    read = Math.floor(all * 0.75);
    async function* first(): AsyncGenerator<AnyEnvelope> {
      let n = 0;
      for await (const e of source as AsyncIterable<AnyEnvelope>) {
        if (n++ >= read) return;
        yield e;
      }
    }
    const store = await EmbeddedEventStore.open(path.join(tmp.dir, 'store'));
    try {
      const s = await runKernel({ mode: 'replay', store, config: cfg, sourceLabel: 'catalog', events: first(), inputsReference: datasetReference(catalog, source.manifest) });
      runId = s.runId;
      refRecorded = await collect(store.readStream(`run-${runId}`));
    } finally {
      await store.close();
    }
  }, 60_000);
  afterAll(() => tmp.cleanup());

  it('re-feeds exactly the inputs the run read (RunEnded says how many), not the whole dataset', async () => {
    expect((refRecorded.at(-1)!.data as { events: number }).events).toBe(read);
    const decisions = refRecorded.filter((e) => e.metadata.role === 'decision').length;
    expect(decisions).toBeGreaterThan(0);
    const r = await checkParity(storeView(refRecorded), runId);
    expect(r).toMatchObject({ identical: true, complete: true, inputs: read, decisions });
  });

  it('a divergence names the input by its number among the referenced inputs', async () => {
    const at = refRecorded.findIndex((e) => e.type === 'OrderIntended');
    const run = refRecorded.map((e, i) => (i === at ? structuredClone(e) : e));
    (run[at]!.data as { qtyLots: number }).qtyLots += 1;
    const r = await checkParity(storeView(run), runId);
    expect(r.identical).toBe(false);
    const cause = (refRecorded[at]!.data as { decision: { causeInput: number } }).decision.causeInput;
    expect(r.divergence).toMatchObject({ inputPosition: null, inputNumber: cause });
  });
});
