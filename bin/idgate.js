#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm ci builds it through the prepare script).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
