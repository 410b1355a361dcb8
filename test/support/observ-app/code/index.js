// The observability fixture's services: frontend -> orders -> payments, plus a call to admin that the
// mesh denies. Payments' release 2 fails every call (FAIL=1): a canary going bad.

const { call } = require('lambda-mesh');

exports.frontend = async (event) => {
  if (event?.admin) {
    try {
      await call('admin', {});
    } catch (e) {
      return { denied: e.name === 'MeshDeniedError' };
    }
  }
  const order = await call('orders', { item: event?.item || 'book' }).catch((e) => ({ error: e.message }));
  return { frontend: true, order };
};

exports.orders = async (event) => {
  const payment = await call('payments', { amount: 42, item: event.item });
  return { order: 'placed', payment };
};

exports.payments = async () => {
  if (process.env.FAIL === '1') throw new Error('payments release 2 is broken');
  return { paid: true, version: process.env.AWS_LAMBDA_FUNCTION_VERSION };
};

exports.admin = async () => ({ admin: true });
