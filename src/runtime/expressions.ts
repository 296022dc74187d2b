/** The runtime's expression engine: the language's own semantics from src/compiler/expr.ts. */
import { evaluateExpression, isTruthy, renderTemplate } from '../compiler/expr.js';
import type { ExpressionEngine } from './ports.js';

export const celExpressions: ExpressionEngine = {
  evaluate: evaluateExpression,
  render: renderTemplate,
  truthy: isTruthy,
};
