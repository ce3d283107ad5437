// The vitest configuration Stryker runs: the project's settings, limited to the current room's test files.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.ts';
import { currentRoom } from './rooms.mjs';

export default mergeConfig(base, defineConfig({ test: { include: currentRoom().tests } }));
