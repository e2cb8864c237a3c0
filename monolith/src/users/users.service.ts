import { Op, UniqueConstraintError, type Sequelize } from 'sequelize';
import { HttpError, notFound } from '../../../lib/http/errors';
import { emailLookupKey } from '../../../lib/text/email';
import type { Models, User } from '../db/models';

export interface UserDto {
  id: number;
  email: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

const toDto = (u: User): UserDto => ({ id: u.id, email: u.email, name: u.name, createdAt: u.createdAt, updatedAt: u.updatedAt });

const emailTaken = () => new HttpError(409, 'email_taken', 'a user with this email already exists');

export class UsersService {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly models: Models,
  ) {}

  async create(input: { email: string; name: string }): Promise<UserDto> {
    try {
      return toDto(await this.models.User.create(input));
    } catch (err) {
      // The unique index on lower(email) decides races between concurrent creates.
      if (err instanceof UniqueConstraintError) throw emailTaken();
      throw err;
    }
  }

  async get(id: number): Promise<UserDto> {
    const user = await this.models.User.findByPk(id);
    if (!user) throw notFound('user');
    return toDto(user);
  }

  async list(q: { email?: string; limit: number; cursor?: string }): Promise<{ items: UserDto[]; nextCursor: string | null }> {
    const where: Record<string | symbol, unknown> = {};
    if (q.cursor) where.id = { [Op.gt]: Number(q.cursor) };
    const rows = await this.models.User.findAll({
      where: q.email === undefined ? where : { ...where, [Op.and]: [this.sequelize.where(this.sequelize.fn('lower', this.sequelize.col('email')), emailLookupKey(q.email))] },
      order: [['id', 'ASC']],
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const nextCursor = rows.length > q.limit ? String(page[page.length - 1].id) : null;
    return { items: page.map(toDto), nextCursor };
  }

  async update(id: number, patch: { email?: string; name?: string }): Promise<UserDto> {
    const user = await this.models.User.findByPk(id);
    if (!user) throw notFound('user');
    if (patch.email !== undefined) user.email = patch.email;
    if (patch.name !== undefined) user.name = patch.name;
    if (user.changed()) user.changed('updatedAt', true);
    try {
      return toDto(await user.save());
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw emailTaken();
      throw err;
    }
  }

  async remove(id: number): Promise<void> {
    await this.sequelize.transaction(async (transaction) => {
      const user = await this.models.User.findByPk(id, { transaction, lock: transaction.LOCK.UPDATE });
      if (!user) throw notFound('user');
      const orders = await this.models.Order.count({ where: { userId: id }, transaction });
      if (orders > 0) throw new HttpError(409, 'user_has_orders', 'the user has orders and cannot be deleted');
      await user.destroy({ transaction });
    });
  }
}
