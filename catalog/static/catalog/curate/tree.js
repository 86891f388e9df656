// The drive's folder tree: folders load lazily (one request per folder), files arrive in
// pages that load as the list scrolls, so a folder of 10,000 files stays responsive.

import * as api from './api.js';
import { h, statusDot } from './dom.js';

// What a chip shows, counted: "3 files need attention on this drive".
const FILTER_WORDS = {
  unreviewed: ['unreviewed file', 'unreviewed files', 'unreviewed'],
  needs_attention: ['file needs attention', 'files need attention', 'need attention'],
  upload: ['file for upload', 'files for upload', 'for upload'],
};

function counted(n, filter) {
  const [one, many] = FILTER_WORDS[filter];
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

// Files per request while paging down to a file the tree must show (the API's largest page).
const REVEAL_PAGE = 500;

function ancestorsOf(path) {
  if (!path) return [''];
  const parts = path.split('/');
  return ['', ...parts.map((_part, i) => parts.slice(0, i + 1).join('/'))];
}

export class Tree {
  constructor(root, { onOpen, onError }) {
    this.root = root;
    this.onOpen = onOpen;
    this.onError = onError;
    this.folders = new Map(); // path -> {ul, files: [ids], next, total, loading}
    this.folderRows = new Map(); // path -> {li, counts, total}
    this.fileNodes = new Map(); // id -> {li, path, row}
    this.selectedId = null;
    this.generation = 0;
    this.observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (entry.isIntersecting) this.loadMore(entry.target.dataset.path);
        }
      },
      { root: null, rootMargin: '400px' },
    );
    root.addEventListener('click', (event) => this.onClick(event));
  }

  async load(driveId, filter) {
    this.generation += 1;
    this.driveId = driveId;
    this.filter = filter;
    this.folders.clear();
    this.folderRows.clear();
    this.fileNodes.clear();
    this.observer.disconnect();
    const summary = h('p', { class: 'phs-tree__summary' });
    const ul = h('ul', { class: 'phs-tree__group phs-tree__root', role: 'group' });
    this.root.replaceChildren(summary, ul);
    this.folders.set('', { ul, files: [], next: null, total: 0, loading: false });
    this.folderRows.set('', { li: summary, counts: {}, total: 0, reviewed: 0 });
    const data = await api.tree(driveId, '', filter, 0);
    this.folderRows.set('', { li: summary, ...this.countsOf(data.folder) });
    this.renderSummary();
    this.fill('', data);
  }

  countsOf(folder) {
    return { counts: { ...folder.counts }, total: folder.total, reviewed: folder.reviewed };
  }

  renderSummary() {
    const row = this.folderRows.get('');
    const reviewed = `${row.reviewed.toLocaleString()} / ${row.total.toLocaleString()} files reviewed on this drive`;
    row.li.textContent = this.filter
      ? `${counted(row.counts[this.filter] || 0, this.filter)} on this drive · ${reviewed}`
      : reviewed;
  }

  fill(path, data) {
    const state = this.folders.get(path);
    state.ul.querySelector(':scope > .phs-tree__more')?.remove();
    if (data.offset === 0) {
      for (const folder of data.folders) state.ul.append(this.folderNode(folder));
    }
    for (const row of data.files) {
      state.ul.append(this.fileNode(row, path));
      state.files.push(row.id);
    }
    state.next = data.next_offset;
    state.total = data.file_total;
    if (state.next !== null) {
      const more = h(
        'li',
        { class: 'phs-tree__more', dataset: { path } },
        h('button', { type: 'button', class: 'phs-tree__more-button', dataset: { more: path } },
          `Show more files (${state.files.length.toLocaleString()} of ${state.total.toLocaleString()})`),
      );
      state.ul.append(more);
      this.observer.observe(more);
    }
    if (data.offset === 0 && !data.folders.length && !data.files.length) {
      state.ul.append(h('li', { class: 'phs-tree__empty' }, this.filter ? 'No matching files here.' : 'Empty folder.'));
    }
  }

  folderNode(folder) {
    const label = h('span', { class: 'phs-tree__count' });
    const bar = h('span', { class: 'phs-tree__progress', 'aria-hidden': 'true' }, h('span'));
    const li = h(
      'li',
      { class: 'phs-tree__folder', role: 'treeitem', 'aria-expanded': 'false', dataset: { path: folder.path } },
      h('button', { type: 'button', class: 'phs-tree__row', dataset: { folder: folder.path } },
        h('span', { class: 'phs-tree__caret', 'aria-hidden': 'true' }),
        h('span', { class: 'phs-tree__name' }, folder.name),
        label,
        bar),
    );
    this.folderRows.set(folder.path, { li, label, bar, ...this.countsOf(folder) });
    this.renderFolderCount(folder.path);
    return li;
  }

  renderFolderCount(path) {
    const row = this.folderRows.get(path);
    if (!row || !row.label) return;
    if (this.filter) {
      // A chip is on: how many of its files each folder holds, not reviewed/total.
      const n = row.counts[this.filter] || 0;
      row.label.textContent = `${n.toLocaleString()} ${FILTER_WORDS[this.filter][2]}`;
      row.label.title = `${counted(n, this.filter)} in this folder (${row.reviewed} of ${row.total} reviewed)`;
    } else {
      row.label.textContent = `${row.reviewed.toLocaleString()}/${row.total.toLocaleString()}`;
      row.label.title = `${row.reviewed} of ${row.total} files reviewed`;
    }
    const share = row.total ? row.reviewed / row.total : 0;
    row.bar.firstChild.style.setProperty('width', `${(share * 100).toFixed(1)}%`);
    row.li.classList.toggle('phs-tree__folder--done', row.total > 0 && row.reviewed === row.total);
  }

  fileNode(row, path) {
    const li = h(
      'li',
      { class: 'phs-tree__file', role: 'treeitem', 'aria-selected': 'false', dataset: { id: row.id } },
      h('button', { type: 'button', class: 'phs-tree__row', dataset: { file: row.id } },
        statusDot(row.status, row.in_review),
        h('span', { class: 'phs-tree__name' }, row.filename),
        row.in_review ? h('span', { class: 'phs-tree__mark', title: 'In review' }, 'in review') : null),
    );
    this.fileNodes.set(row.id, { li, path, row });
    if (row.id === this.selectedId) this.markSelected(li);
    return li;
  }

  onClick(event) {
    const more = event.target.closest('[data-more]');
    if (more) {
      this.loadMore(more.dataset.more);
      return;
    }
    const fileButton = event.target.closest('[data-file]');
    if (fileButton) {
      this.onOpen(Number(fileButton.dataset.file));
      return;
    }
    const folderButton = event.target.closest('[data-folder]');
    if (folderButton) this.toggle(folderButton.dataset.folder);
  }

  async toggle(path) {
    const row = this.folderRows.get(path);
    if (row.li.getAttribute('aria-expanded') === 'true') {
      row.li.setAttribute('aria-expanded', 'false');
      return;
    }
    await this.expand(path);
  }

  async expand(path) {
    if (path === '') return;
    const row = this.folderRows.get(path);
    if (!row) return;
    row.li.setAttribute('aria-expanded', 'true');
    if (this.folders.has(path)) return;
    const ul = h('ul', { class: 'phs-tree__group', role: 'group' }, h('li', { class: 'phs-tree__loading' }, 'Loading…'));
    row.li.append(ul);
    const state = { ul, files: [], next: null, total: 0, loading: true };
    this.folders.set(path, state);
    const generation = this.generation;
    try {
      const data = await api.tree(this.driveId, path, this.filter, 0);
      if (generation !== this.generation) return;
      ul.replaceChildren();
      this.fill(path, data);
    } catch (error) {
      ul.replaceChildren(h('li', { class: 'phs-tree__empty' }, error.message));
      this.folders.delete(path);
      ul.remove();
      this.onError(error);
    } finally {
      state.loading = false;
    }
  }

  async loadMore(path, limit = undefined) {
    const state = this.folders.get(path);
    if (!state || state.loading || state.next === null) return;
    state.loading = true;
    const generation = this.generation;
    try {
      const data = await api.tree(this.driveId, path, this.filter, state.next, limit);
      if (generation === this.generation) this.fill(path, data);
    } catch (error) {
      this.onError(error);
    } finally {
      state.loading = false;
    }
  }

  /** Expand the folders down to ``path`` and page until the file ``id`` is listed. */
  async reveal(path, id = null) {
    for (const ancestor of ancestorsOf(path)) {
      if (ancestor && !this.folderRows.has(ancestor)) return false; // filtered out
      await this.expand(ancestor);
    }
    if (id === null) return true;
    const state = this.folders.get(path);
    while (state && !this.fileNodes.has(id) && state.next !== null) {
      await this.loadMore(path, REVEAL_PAGE); // far down a big folder: the largest pages
      if (state.loading) break;
    }
    return this.fileNodes.has(id);
  }

  markSelected(li) {
    li.setAttribute('aria-selected', 'true');
    li.classList.add('phs-tree__file--selected');
  }

  select(id) {
    if (this.selectedId !== null) {
      const old = this.fileNodes.get(this.selectedId);
      if (old) {
        old.li.setAttribute('aria-selected', 'false');
        old.li.classList.remove('phs-tree__file--selected');
      }
    }
    this.selectedId = id;
    const node = this.fileNodes.get(id);
    if (node) {
      this.markSelected(node.li);
      node.li.scrollIntoView({ block: 'nearest' });
    }
  }

  /** A saved file's new dot and in-review mark. */
  updateFile(id, status, inReview) {
    const node = this.fileNodes.get(id);
    if (!node) return;
    node.row = { ...node.row, status, in_review: inReview };
    const button = node.li.querySelector('.phs-tree__row');
    button.querySelector('.phs-dot').replaceWith(statusDot(status, inReview));
    button.querySelector('.phs-tree__mark')?.remove();
    if (inReview) button.append(h('span', { class: 'phs-tree__mark', title: 'In review' }, 'in review'));
  }

  /** The server's counters for the folders a write moved (the file's folder up to the root). */
  setCounts(folders) {
    for (const folder of folders) {
      const row = this.folderRows.get(folder.path);
      if (!row) continue;
      Object.assign(row, this.countsOf(folder));
      if (folder.path === '') this.renderSummary();
      else this.renderFolderCount(folder.path);
    }
  }
}
