import { parsePlan } from '../../../../control/plan';
import { guardedTables, pipelinesFor } from '../definition';

const plan = (writes: string) =>
  parsePlan(`
version: 1
monolith: { url: http://127.0.0.1:3000, database: monolith }
contexts:
  blog:
    service: { url: http://127.0.0.1:3101, database: blog }
    routes: ["* /api/articles"]
    shadow: { writes: ${writes} }
    tables:
      Articles: { table: Posts }
      Tags: { table: Posts, embed: { column: tags, parentKey: articleId } }
      Users: { table: Authors, reference: true }
      Countries: { table: Countries, reference: true }
`);

describe('pipeline definitions and the write guard from the plan', () => {
  it('the reverse pipeline neither publishes nor maps reference tables; the forward one carries everything', () => {
    const { forward, reverse } = pipelinesFor(plan('none'), 'blog', 'postgres://u@127.0.0.1:5432/postgres');
    expect(forward.source.tables).toEqual(['Articles', 'Tags', 'Users', 'Countries']);
    expect(Object.keys(forward.mapping)).toEqual(['Articles', 'Tags', 'Users', 'Countries']);
    expect(reverse.source.tables).toEqual(['Posts']);
    expect(Object.keys(reverse.mapping)).toEqual(['Articles', 'Tags']);
  });

  it('guards reference tables always and, with dry-run writes, every captured service table', () => {
    expect(guardedTables(plan('none'), 'blog')).toEqual([
      { table: 'Authors', reference: true },
      { table: 'Countries', reference: true },
    ]);
    expect(guardedTables(plan('dryRun'), 'blog')).toEqual([
      { table: 'Posts', reference: false },
      { table: 'Authors', reference: true },
      { table: 'Countries', reference: true },
    ]);
  });
});
