/**
 * The services process: the ITSM records API, the web console and the search projection (the
 * `search` queue).
 */
import { runProcess } from '../runtime/run.ts';

await runProcess('services', ['services', 'web']);
