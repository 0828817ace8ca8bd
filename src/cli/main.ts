#!/usr/bin/env node
/** The `relaygate` command: runCli (run.ts) with this process's streams, environment and folder. */
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
