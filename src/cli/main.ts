#!/usr/bin/env node
import { readSync } from 'fs';
import { runAsync } from './cli';

/** Asks on stderr and reads one line of stdin, synchronously (every command but deploy runs synchronously). */
function ask(question: string): string | undefined {
  process.stderr.write(question);
  const bytes: number[] = [];
  const buffer = Buffer.alloc(1);
  for (;;) {
    let read: number;
    try {
      read = readSync(0, buffer, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((e as NodeJS.ErrnoException).code === 'EOF') read = 0;
      else throw e;
    }
    if (read === 0) return bytes.length > 0 ? Buffer.from(bytes).toString('utf-8') : undefined;
    if (buffer[0] === 0x0a) return Buffer.from(bytes).toString('utf-8').replace(/\r$/, '');
    bytes.push(buffer[0]);
  }
}

void runAsync(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  cwd: process.cwd(),
  errIsTTY: process.stderr.isTTY === true,
  inIsTTY: process.stdin.isTTY === true,
  ask,
}).then((code) => {
  process.exitCode = code;
});
