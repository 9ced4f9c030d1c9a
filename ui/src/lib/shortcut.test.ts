import { describe, expect, it } from 'vitest';
import { acceleratorFor, displayShortcut } from './shortcut';

const press = (code: string, mods: Partial<Record<'ctrlKey' | 'altKey' | 'shiftKey' | 'metaKey', boolean>> = {}) => ({
  ctrlKey: false,
  altKey: false,
  shiftKey: false,
  metaKey: false,
  code,
  ...mods,
});

describe('acceleratorFor', () => {
  it('builds accelerators from physical keys and modifiers', () => {
    expect(acceleratorFor(press('KeyK', { ctrlKey: true, altKey: true }))).toBe('Control+Alt+K');
    expect(acceleratorFor(press('Digit2', { metaKey: true, shiftKey: true }))).toBe('Shift+Super+2');
    expect(acceleratorFor(press('Space', { ctrlKey: true }))).toBe('Control+Space');
    expect(acceleratorFor(press('F9', { altKey: true }))).toBe('Alt+F9');
  });

  it('waits while only modifiers are held and refuses shortcuts that would eat typing', () => {
    expect(acceleratorFor(press('ControlLeft', { ctrlKey: true }))).toBeNull();
    expect(acceleratorFor(press('KeyK'))).toBeNull();
    expect(acceleratorFor(press('KeyK', { shiftKey: true }))).toBeNull();
  });
});

describe('displayShortcut', () => {
  it('reads like the keys on the keyboard', () => {
    expect(displayShortcut('CommandOrControl+Alt+K')).toBe('Ctrl+Alt+K');
    expect(displayShortcut('CommandOrControl+Alt+K', true)).toBe('⌘+⌥+K');
    expect(displayShortcut('Control+Shift+ArrowUp')).toBe('Ctrl+Shift+Up');
  });
});
