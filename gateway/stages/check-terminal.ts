import { BaygateError } from '../errors.js';
import type { LoadedTerminal } from '../../policies/load.js';
import type { Stage } from '../context.js';

/** The terminal behind the token: still in the policy, active, and calling from its own ranges. */
export function checkTerminal(config: { terminals: ReadonlyMap<string, LoadedTerminal> }): Stage {
  return async function checkTerminal(ctx, next) {
    const bg = ctx.state.bg;
    const terminal = config.terminals.get(bg.token!.clientId);
    if (!terminal) throw new BaygateError('BG_TOKEN_INVALID', { reason: `terminal ${bg.token!.clientId} is no longer in the policy` });
    bg.terminal = terminal;
    if (terminal.config.status !== 'active') throw new BaygateError('BG_TERMINAL_LOCKED');
    if (terminal.sourceRanges && !terminal.sourceRanges.contains(bg.clientIp)) {
      throw new BaygateError('BG_IP_DENIED', { reason: `${bg.clientIp} is outside the source ranges of terminal ${terminal.config.id}` });
    }
    return next();
  };
}
