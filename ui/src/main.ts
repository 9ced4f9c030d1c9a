import { mount } from 'svelte';
import { getCurrentWindow } from '@tauri-apps/api/window';
import App from './App.svelte';
import Palette from './components/Palette.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html lost its #app element');

/** The global shortcut's quick-search palette is the same page in a small window. */
function inPalette(): boolean {
  try {
    return getCurrentWindow().label === 'palette';
  } catch {
    return false; // outside Tauri (Vite preview): the main window
  }
}

export default inPalette() ? mount(Palette, { target }) : mount(App, { target });
