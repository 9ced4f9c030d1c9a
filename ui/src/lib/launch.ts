import { commands } from './ipc';

/** A link Kaito was started or called with: a team invite, or a token to add. */
export type LaunchLink = { kind: 'invite' | 'token'; uri: string };

/** kaito:// links are team invites; anything else (otpauth://, otpauth-migration://) adds tokens. */
export function launchLink(uri: string): LaunchLink {
  return { kind: uri.toLowerCase().startsWith('kaito://') ? 'invite' : 'token', uri };
}

/** The link waiting to be opened, handed out once; null when there is none or the core cannot say. */
export async function takeLaunchLink(): Promise<LaunchLink | null> {
  const uri = await commands.takeLaunchUri().catch(() => null);
  return uri ? launchLink(uri) : null;
}
