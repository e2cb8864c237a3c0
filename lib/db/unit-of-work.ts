import type { Sequelize, Transaction } from 'sequelize';

class DryRunRollback<T> extends Error {
  constructor(readonly result: T) {
    super('dry run: rolled back on purpose');
  }
}

/**
 * Runs `work` in one transaction. A dry run does all the same statements (constraints, triggers, outbox rows)
 * and then rolls back, so its answer is the real answer and nothing is left behind.
 */
export async function unitOfWork<T>(sequelize: Sequelize, dryRun: boolean, work: (t: Transaction) => Promise<T>): Promise<T> {
  try {
    return await sequelize.transaction(async (t) => {
      const result = await work(t);
      if (dryRun) throw new DryRunRollback(result);
      return result;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.result as T;
    throw err;
  }
}
