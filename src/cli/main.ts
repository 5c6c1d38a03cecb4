#!/usr/bin/env node
import { run } from './cli';

process.exitCode = run(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  cwd: process.cwd(),
  errIsTTY: process.stderr.isTTY === true,
});
