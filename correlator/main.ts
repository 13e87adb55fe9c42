/**
 * A correlator process: the live correlator (while it holds the lease), the correlate and
 * maintenance queues, and the scheduler (health and metrics on PORT).
 */
import { runProcess } from '../runtime/run.ts';

await runProcess('correlator', ['correlator']);
