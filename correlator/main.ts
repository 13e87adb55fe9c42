/** A correlator process: queue workers and the sweep scheduler (health and metrics on PORT). */
import { runProcess } from '../runtime/run.ts';

await runProcess('correlator', ['correlator']);
