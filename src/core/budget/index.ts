export * from './budgetConfigLoader.js';
export * from './budgetEvaluator.js';
export * from './budgetPeriod.js';
export * from './budgetSchema.js';
export { findKeyLine, findTableLine } from './tomlLocator.js';
export { formatCompact as formatTokensShort } from '../../shared/format.js';
