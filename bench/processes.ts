/**
 * The child processes of the benchmarks: each Tocsin role (or a bare server) runs in its own
 * process, as in production, started with tsx and stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The repository root. */
export const root = new URL('..', import.meta.url).pathname;
/** The tsx binary every benchmark process runs with. */
export const tsx = join(root, 'node_modules/.bin/tsx');

/** A started child process and the last 4,000 characters it printed (for error messages). */
export type StartedProcess = { child: ChildProcess; output: () => string };

/** Starts a process in the repository root with these variables added to the environment. */
export function startProcess(
  command: string,
  argv: string[],
  env: Record<string, string>,
): StartedProcess {
  let output = '';
  const child = spawn(command, argv, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  return { child, output: () => output };
}

/** Resolves once the URL answers at all; throws with the process's output after 60 s. */
export async function waitUntilUp(url: string, proc: { output: () => string }): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not come up:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Stops a process with SIGTERM and waits for it to exit. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
