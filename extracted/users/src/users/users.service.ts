import { UniqueConstraintError, type Sequelize } from 'sequelize';
import { unitOfWork } from '../../../../lib/db/unit-of-work';
import { HttpError, notFound } from '../../../../lib/http/errors';
import { emailLookupKey } from '../../../../lib/text/email';
import type { OrdersClient } from './orders.client';
import type { CreateUserInput, ListUsersQuery, UpdateUserInput } from './users.schema';
import type { User, UsersStore } from './users.store';

export interface UserDto {
  id: number;
  email: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** How a write is run: a dry run rolls back at the end; `forwardHeaders` go on every call to another service. */
export interface WriteContext {
  dryRun: boolean;
  forwardHeaders: Record<string, string>;
}

const toDto = (u: User): UserDto => ({ id: u.id, email: u.email, name: u.fullName, createdAt: u.createdAt, updatedAt: u.updatedAt });

/** The workshop's planted bugs of this service (`strangler workshop bug <name> on|off`; off outside a workshop). */
export const USERS_BUGS = [{ name: 'users-name-truncated', description: 'names longer than 12 characters are cut to 12 in every answer' }];

const emailTaken = () => new HttpError(409, 'email_taken', 'a user with this email already exists');

/** The unique index on lower(email) decides races between concurrent writers. */
function rethrowEmailTaken(err: unknown): never {
  if (err instanceof UniqueConstraintError) throw emailTaken();
  throw err;
}

export class UsersService {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly store: UsersStore,
    private readonly orders: OrdersClient,
    private readonly planted: (bug: string) => boolean = () => false,
  ) {}

  private dto(u: User): UserDto {
    const dto = toDto(u);
    return this.planted('users-name-truncated') ? { ...dto, name: dto.name.slice(0, 12) } : dto;
  }

  create(input: CreateUserInput, ctx: WriteContext): Promise<UserDto> {
    return unitOfWork(this.sequelize, ctx.dryRun, async (transaction) => {
      try {
        return this.dto(await this.store.create({ email: input.email, fullName: input.name }, transaction));
      } catch (err) {
        rethrowEmailTaken(err);
      }
    });
  }

  async get(id: number): Promise<UserDto> {
    const user = await this.store.findById(id);
    if (!user) throw notFound('user');
    return this.dto(user);
  }

  async list(q: ListUsersQuery): Promise<{ items: UserDto[]; nextCursor: string | null }> {
    const rows = await this.store.page({
      afterId: q.cursor === undefined ? undefined : Number(q.cursor),
      emailLower: q.email === undefined ? undefined : emailLookupKey(q.email),
      take: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const nextCursor = rows.length > q.limit ? String(page[page.length - 1].id) : null;
    return { items: page.map((u) => this.dto(u)), nextCursor };
  }

  update(id: number, patch: UpdateUserInput, ctx: WriteContext): Promise<UserDto> {
    return unitOfWork(this.sequelize, ctx.dryRun, async (transaction) => {
      const user = await this.store.findById(id, { transaction, forUpdate: true });
      if (!user) throw notFound('user');
      if (patch.email !== undefined) user.email = patch.email;
      if (patch.name !== undefined) user.fullName = patch.name;
      if (user.changed()) user.changed('updatedAt', true);
      try {
        return this.dto(await user.save({ transaction }));
      } catch (err) {
        rethrowEmailTaken(err);
      }
    });
  }

  /**
   * Orders live in the orders service now, so "has orders" is a question over HTTP. The row lock is held while
   * asking (bounded by the client's timeout) so a concurrent PATCH or DELETE of the same user waits. An order
   * placed between the answer and the commit can still slip through; the orders service checks that the user
   * exists when it places an order, which makes that window small but not zero (see README).
   */
  remove(id: number, ctx: WriteContext): Promise<void> {
    return unitOfWork(this.sequelize, ctx.dryRun, async (transaction) => {
      const user = await this.store.findById(id, { transaction, forUpdate: true });
      if (!user) throw notFound('user');
      if (await this.orders.userHasOrders(id, ctx.forwardHeaders)) {
        throw new HttpError(409, 'user_has_orders', 'the user has orders and cannot be deleted');
      }
      await user.destroy({ transaction });
    });
  }
}
