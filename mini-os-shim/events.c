/*
 * events.c: event callback registration and event-channel operations.
 *
 * Events stay masked (vcpu_info.evtchn_upcall_mask = 1) outside
 * SCHEDOP_block; the upcall (entry.S) only returns. Go scans the pending
 * bitmaps in shared_info itself.
 */
#include "shim.h"
#include "hypercall.h"

extern char shim_hypervisor_callback[];
extern char shim_failsafe_callback[];

static void register_callback(uint16_t type, uint16_t flags, char *addr, const char *what)
{
	callback_register_t cb;
	long rc;

	cb.type = type;
	cb.flags = flags;
	cb.address = (unsigned long)addr;
	rc = HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
	if (rc)
		shim_fail(what, rc);
}

void shim_events_init(void)
{
	register_callback(CALLBACKTYPE_event, 0, shim_hypervisor_callback,
			  "callback_op(register event)");
	register_callback(CALLBACKTYPE_failsafe, CALLBACKF_mask_events,
			  shim_failsafe_callback, "callback_op(register failsafe)");
}

uint32_t shim_events_bind_virq(uint32_t virq)
{
	evtchn_bind_virq_t op;
	long rc;

	op.virq = virq;
	op.vcpu = 0;
	op.port = 0;
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
	if (rc)
		shim_fail("event_channel_op(bind_virq)", rc);
	return op.port;
}

void shim_events_unmask(uint32_t port)
{
	evtchn_unmask_t op;
	long rc;

	op.port = port;
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
	if (rc)
		shim_fail("event_channel_op(unmask)", rc);
}

void shim_events_notify(uint32_t port)
{
	evtchn_send_t op;

	op.port = port;
	HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}
