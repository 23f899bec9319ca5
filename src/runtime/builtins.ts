/**
 * Built-in modules taken through require instead of an ES import. Importing a CommonJS built-in as
 * an ES module reads each of its exports once, lazy getters included: node:http's WebSocket,
 * CloseEvent and MessageEvent getters then load undici and the web streams, which nothing here uses
 * (some 9 MiB resident; node:fs and node:util cost 1.4 MiB each the same way). Through require, a
 * getter runs only when it is read.
 */
import type * as Fs from 'node:fs';
import type * as Http from 'node:http';
import { createRequire } from 'node:module';
import type * as Util from 'node:util';

const require = createRequire(import.meta.url);

export const http = require('node:http') as typeof Http;
export const fs = require('node:fs') as typeof Fs;
export const util = require('node:util') as typeof Util;
