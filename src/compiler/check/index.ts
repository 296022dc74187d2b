/**
 * Semantic checks: what JSON Schema cannot see. Input: the documents that passed
 * schema validation; output: diagnostics (errors and warnings), never an exception.
 */
import type { Diagnostic } from '../diagnostics.js';
import type { Unit } from '../model.js';
import {
  checkAudioFiles,
  checkConferenceReferences,
  checkDials,
  checkDuplicateNames,
  checkNotify,
  checkRoutes,
  checkTests,
} from './config.js';
import { CheckContext, type CheckOptions } from './context.js';
import { checkFlowExpressions } from './exprs.js';
import { checkFlows } from './flows.js';

export type { CheckOptions } from './context.js';

export function checkUnits(units: Unit[], options: CheckOptions): Diagnostic[] {
  const ctx = new CheckContext(units, options);
  checkDuplicateNames(ctx);
  checkRoutes(ctx);
  checkTests(ctx);
  const dialStarts = checkDials(ctx);
  checkFlows(ctx, dialStarts);
  checkFlowExpressions(ctx);
  checkConferenceReferences(ctx);
  checkAudioFiles(ctx);
  checkNotify(ctx);
  return ctx.diagnostics;
}
