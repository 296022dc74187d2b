/** The simulator's public surface (used by `parley simulate` and `parley test`). */
export { SimCallLeg, SimCalls, SimMedia, ttsDurationMs, wavDurationMs } from './fakes.js';
export { type Command, parseDuration, parseScript, ScriptError } from './script.js';
export {
  runTest,
  type SimulateOptions,
  type SimulationResult,
  simulate,
  type TestResult,
} from './simulate.js';
export {
  checkTranscript,
  formatEntry,
  formatTranscript,
  matches,
  type TranscriptEntry,
  type TranscriptMatcher,
} from './transcript.js';
