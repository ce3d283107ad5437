// The vitest configuration Stryker runs: the project's settings, limited to the current room's test files.
// (Not mergeConfig: it would add the room's files to the project's `include` instead of replacing it.)
import { configDefaults } from 'vitest/config';
import base from '../../vitest.config.ts';
import { currentRoom } from './rooms.mjs';

const room = currentRoom();

export default {
  ...base,
  test: {
    ...base.test,
    include: room.tests,
    exclude: [...(base.test?.exclude ?? configDefaults.exclude), ...(room.exclude ?? [])],
  },
};
