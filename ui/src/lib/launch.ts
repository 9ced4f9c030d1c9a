import { commands } from './ipc';

/** A link Kaito was started or called with: a team link (an invite or a set-password link), or a token to add. */
export type LaunchLink = { kind: 'team' | 'token'; uri: string };

/** kaito:// links are the team's (kaito://join, kaito://set-password); anything else (otpauth://, otpauth-migration://) adds tokens. */
export function launchLink(uri: string): LaunchLink {
  return { kind: uri.toLowerCase().startsWith('kaito://') ? 'team' : 'token', uri };
}

/** The link waiting to be opened, handed out once; null when there is none or the core cannot say. */
export async function takeLaunchLink(): Promise<LaunchLink | null> {
  const uri = await commands.takeLaunchUri().catch(() => null);
  return uri ? launchLink(uri) : null;
}
