// The convention benchmark's checker and scoring on its own hand-written data: every task's reference
// solution follows every convention the task lists, the replaced rules fail on it, and code that ignores
// the conventions fails (so the benchmark can tell memory from no memory).
import { describe, expect, it } from 'vitest';
import { checkAnswers, loadConversations, scoreConventionBank } from '../../bench/conventions/benchmark';
import type { Memory } from '../../src/core/types';

const conversations = loadConversations();

describe('the convention benchmark', () => {
  it('has 20 conversations split dev/test by conversation, with sessions, changed conventions and 2-4 tasks each', () => {
    expect(conversations).toHaveLength(20);
    expect(conversations.filter((c) => c.split === 'test')).toHaveLength(10);
    for (const c of conversations) {
      expect(c.sessions.length).toBeGreaterThanOrEqual(3);
      expect(c.tasks.length).toBeGreaterThanOrEqual(2);
      for (const t of c.tasks) for (const id of t.conventions) expect(c.conventions.find((x) => x.id === id)?.status, `${c.id}/${t.id}/${id}`).toBe('current');
    }
    expect(conversations.filter((c) => c.conventions.some((x) => x.status === 'stale')).length).toBeGreaterThanOrEqual(16);
  });

  it("every reference follows its task's conventions; plain code and the replaced rules do not", () => {
    let checked = 0;
    let staleFailed = 0;
    let staleChecked = 0;
    for (const c of conversations) {
      const refs = checkAnswers(c, c.tasks.map((task) => ({ task, answer: task.reference })));
      refs.forEach((r, i) => r.forEach((x) => expect(x.ok, `${c.id}/${c.tasks[i].id}/${x.id}: ${x.why.join('; ')}`).toBe(true)));
      checked += refs.flat().length;
      // The rule a task's convention replaced, checked on the same reference: it is not followed.
      for (const task of c.tasks) {
        const replaced = c.conventions.filter((x) => x.status === 'stale' && x.replacedBy && task.conventions.includes(x.replacedBy) && x.lang === task.lang);
        if (!replaced.length) continue;
        const stale = checkAnswers({ ...c, conventions: c.conventions }, [{ task: { ...task, conventions: replaced.map((x) => x.id) }, answer: task.reference }]);
        staleChecked += stale[0].length;
        staleFailed += stale[0].filter((x) => !x.ok).length;
      }
    }
    expect(checked).toBeGreaterThan(150);
    expect(staleChecked).toBeGreaterThan(5);
    expect(staleFailed / staleChecked).toBeGreaterThan(0.7);
    // An answer without code, and code that ignores every convention, follow none.
    const c = conversations.find((x) => x.tasks.some((t) => t.lang === 'typescript'))!;
    const task = c.tasks.find((t) => t.lang === 'typescript')!;
    expect(checkAnswers(c, [{ task, answer: 'I cannot help with that.' }])[0].every((x) => !x.ok)).toBe(true);
    const py = conversations.find((x) => x.tasks.some((t) => t.lang === 'python'))!;
    const pyTask = py.tasks.find((t) => t.lang === 'python')!;
    const plain = checkAnswers(py, [{ task: pyTask, answer: '```python\nimport requests\n\ndef total(items):\n    print(items)\n    return sum(items)\n\nclass Thing:\n    pass\n\nlimit = 3\n```' }])[0];
    expect(plain.filter((x) => x.ok).length).toBeLessThan(plain.length);
  });

  it('scores the bank: delivered conventions that are current, replaced rules still active, recall', () => {
    const c = conversations.find((x) => x.conventions.some((y) => y.status === 'stale'))!;
    const stale = c.conventions.find((x) => x.status === 'stale')!;
    const current = c.conventions.find((x) => x.id === stale.replacedBy)!;
    const m = (text: string, kind: Memory['kind'], status: Memory['status'] = 'active'): Memory => ({ id: text, text, status, kind, tags: [], pinned: false, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', source: { kind: 'dialogue' } });
    const s = scoreConventionBank(c, [m(current.claim, 'convention'), m(stale.claim, 'convention'), m('Someone likes coffee.', 'other'), m('An old thing.', 'convention', 'superseded')], [{ text: current.claim }, { text: stale.claim }, { text: 'Someone likes coffee.' }]);
    expect(s).toMatchObject({ delivered: 2, deliveredCurrent: 1, staleActive: 1, staleDelivered: 1, recalled: 1, active: 3, activeCurrent: 1, extracted: 3, extractedCurrent: 1, extractedStale: 1 });
  });
});
