/* fake_machine.h: see fake_machine.c. Also the cdef for the cffi test. */
#define PAGE_BYTES 4096

struct fake {
	uint64_t virt_base, nr_pages, nr_mfns, l4_mfn, nr_pt_frames;
	uint64_t **frames;   /* per mfn: 512 entries, allocated on first use */
	uint64_t *p2m;       /* per pfn */
	uint64_t *m2p;       /* per mfn, PT_INVALID_MFN if not ours */
	int *level;          /* per mfn: 0 data, 1-4 page-table level */
	char *ro;            /* per pfn: own mapping is read-only */
	uint64_t update_calls, max_batch, fail_update_at;
	uint64_t zeroed, tables_hooked, leaves_written;
	uint64_t leaves_changed; /* present leaf entries rewritten (allow_leaf_changes) */
	int allow_leaf_changes;  /* let mmu_update change a present leaf's flags (protect) */
	char error[256];
};

extern struct fake fake;

struct pt_builder;
int fake_init(uint64_t virt_base, uint64_t nr_pages, uint64_t nr_mfns, uint64_t boot_pages,
	      uint64_t pt_pfn, uint64_t seed);
void fake_free(void);
void fake_builder(struct pt_builder *b, uint64_t next_free_pfn);
uint64_t fake_lookup(uint64_t va);
void fake_dirty(uint64_t pfn);
