/**
 * The problem miner's pattern search as a worker thread (see searchInThread in problems.ts):
 * started with the class sizes, the anchors and the settings, it takes the look-back's incidents
 * in chunks (null ends them), searches, posts the patterns back in chunks (null ends them) and
 * waits to be ended. Chunks keep each copy short on the sending thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RecurrenceIncident } from '../services/store/problem-candidates.ts';
import { recurringPatterns, type SearchInput } from './problems.ts';
import { createTemplateIndex } from './similarity.ts';

const PATTERNS_PER_MESSAGE = 16;

const { classCis, anchors, settings } = workerData as Omit<SearchInput, 'incidents'>;
const incidents: RecurrenceIncident[] = [];
const port = parentPort!;
port.on('message', (chunk: RecurrenceIncident[] | null) => {
  if (chunk !== null) {
    for (const incident of chunk) incidents.push(incident);
    return;
  }
  void (async () => {
    // Alone on its thread: no turns to give.
    const found = await recurringPatterns(
      incidents,
      await createTemplateIndex(),
      classCis,
      anchors,
      settings,
      Infinity,
    );
    for (let i = 0; i < found.length; i += PATTERNS_PER_MESSAGE)
      port.postMessage(found.slice(i, i + PATTERNS_PER_MESSAGE));
    port.postMessage(null);
  })();
});
