/**
 * A stack that declares its function as NodejsFunction's convention lets it: no `entry`, the handler in
 * `orders-stack.Orders.ts` beside this file (`<defining file>.<construct id>.ts`).
 */
import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Mesh } from '../../../infra/mesh';
import { MeshFunction } from '../../../infra/mesh-function';

export class OrdersStack extends Stack {
  readonly orders: MeshFunction;

  constructor(scope: Construct, id: string, withHandler: 'Orders' | 'Missing') {
    super(scope, id, { env: { account: '123456789012', region: 'eu-west-1' } });
    const mesh = new Mesh(this, 'Mesh', { meshName: 'shop' });
    this.orders = new MeshFunction(this, withHandler, { mesh, service: 'orders' });
  }
}
