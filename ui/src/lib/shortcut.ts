/** What a pressed key combination becomes as a global shortcut ("Control+Alt+K"), or
 * null while only modifiers are down or without a modifier that keeps it out of
 * ordinary typing (Shift alone does not). Keys are named by position (`event.code`),
 * so the shortcut does not change with the keyboard layout. */
export function acceleratorFor(event: Pick<KeyboardEvent, 'ctrlKey' | 'altKey' | 'shiftKey' | 'metaKey' | 'code'>): string | null {
  const key = keyName(event.code);
  if (!key) return null;
  if (!event.ctrlKey && !event.altKey && !event.metaKey) return null;
  const parts: string[] = [];
  if (event.ctrlKey) parts.push('Control');
  if (event.altKey) parts.push('Alt');
  if (event.shiftKey) parts.push('Shift');
  if (event.metaKey) parts.push('Super');
  parts.push(key);
  return parts.join('+');
}

const NAMED = new Set(['Space', 'Enter', 'Tab', 'Backspace', 'Delete', 'Insert', 'Home', 'End', 'PageUp', 'PageDown', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Minus', 'Equal', 'Comma', 'Period', 'Slash', 'Backslash', 'Semicolon', 'Quote', 'BracketLeft', 'BracketRight', 'Backquote']);

function keyName(code: string): string | null {
  let match = /^Key([A-Z])$/.exec(code);
  if (match?.[1]) return match[1];
  match = /^Digit([0-9])$/.exec(code);
  if (match?.[1]) return match[1];
  if (/^F([1-9]|1[0-9]|2[0-4])$/.test(code) || NAMED.has(code)) return code;
  return null;
}

/** A shortcut as people read it: "Ctrl+Alt+K" (⌘ on a Mac for Command). */
export function displayShortcut(accelerator: string, mac = false): string {
  return accelerator
    .split('+')
    .map((part) => {
      switch (part.toLowerCase()) {
        case 'commandorcontrol':
        case 'cmdorctrl':
        case 'cmdorcontrol':
        case 'commandorctrl':
          return mac ? '⌘' : 'Ctrl';
        case 'control':
        case 'ctrl':
          return 'Ctrl';
        case 'super':
        case 'command':
        case 'cmd':
          return mac ? '⌘' : 'Super';
        case 'alt':
        case 'option':
          return mac ? '⌥' : 'Alt';
        default:
          return part.replace(/^Arrow/, '');
      }
    })
    .join('+');
}
