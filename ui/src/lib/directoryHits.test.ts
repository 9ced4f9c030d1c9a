import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import { DirectoryHits } from './directoryHits.svelte';

const service = (name: string) => ({ name, domains: [name], verdict: 'Supports 2FA', supports2fa: true });

describe('DirectoryHits', () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it('asks the directory for three hits on the trimmed search', async () => {
    invoke.mockResolvedValue([service('github.com')]);
    const directory = new DirectoryHits();
    directory.ask(' git ');
    await vi.waitFor(() => expect(directory.hits.map((h) => h.name)).toEqual(['github.com']));
    expect(invoke).toHaveBeenCalledWith('directory_search', { query: 'git', limit: 3 });
  });

  it('keeps only the latest answer, and an empty search clears the hits without asking', async () => {
    let answerFirst: (value: unknown) => void = () => {};
    invoke.mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)));
    invoke.mockResolvedValueOnce([service('gitlab.com')]);
    const directory = new DirectoryHits();
    directory.ask('gith');
    directory.ask('gitl');
    await vi.waitFor(() => expect(directory.hits.map((h) => h.name)).toEqual(['gitlab.com']));
    answerFirst([service('github.com')]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(directory.hits.map((h) => h.name)).toEqual(['gitlab.com']);

    directory.ask('');
    expect(directory.hits).toEqual([]);
    expect(invoke).toHaveBeenCalledTimes(2);
  });

  it('the same search again (the page coming back) is not asked twice', async () => {
    invoke.mockResolvedValue([service('github.com')]);
    const directory = new DirectoryHits();
    directory.ask('git');
    directory.ask('git');
    await vi.waitFor(() => expect(directory.hits).toHaveLength(1));
    expect(invoke).toHaveBeenCalledOnce();
  });
});
