#!/usr/bin/env node
// The pptp-ts command. The sources are TypeScript run through tsx's loader
// (see README "Why tsx"), so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
