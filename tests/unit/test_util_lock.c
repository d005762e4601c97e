/* util: the instance lock, tree removal, names of atomic-write temp files. */
#include "unit.h"
#include "tmpdir.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "magos/util.h"

static void test_lock_held_names_holder(void **state)
{
	char *dir = tmpdir_new("md-lock-test");
	char *path = md_asprintf("%s/lock", dir);
	struct md_err err;
	long holder = -1;
	int fd = -1, fd2 = -1, st;
	int pipefd[2];
	pid_t child;
	char c;

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	if (child == 0) {
		/* the holder: lock, tell the parent, wait to be killed */
		if (md_lock_acquire(path, &fd, &holder, &err) != 0)
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	assert_int_equal(md_lock_acquire(path, &fd2, &holder, &err), 1);
	assert_int_equal(fd2, -1);
	assert_int_equal(holder, (long)child);
	/* SIGKILL: the kernel releases the lock, nobody cleans up */
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	assert_int_equal(md_lock_acquire(path, &fd2, &holder, &err), 0);
	assert_true(fd2 >= 0);
	md_lock_release(fd2);
	close(pipefd[0]);
	close(pipefd[1]);
	free(path);
	tmpdir_free(dir);
}

static void test_lock_error_names_path(void **state)
{
	struct md_err err;
	long holder;
	int fd;

	(void)state;
	assert_int_equal(md_lock_acquire("/nonexistent-dir/x/lock", &fd, &holder, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x/lock"));
}

static void test_atomic_tmp_names(void **state)
{
	(void)state;
	assert_true(md_file_is_atomic_tmp("compose.yaml.magos-tmp.aB3xY9"));
	assert_true(md_file_is_atomic_tmp("state.json.magos-tmp.000000"));
	assert_false(md_file_is_atomic_tmp(".magos-tmp.aB3xY9"));
	assert_false(md_file_is_atomic_tmp("compose.yaml.magos-tmp.aB3xY"));
	assert_false(md_file_is_atomic_tmp("compose.yaml.magos-tmp.aB3xY9z"));
	assert_false(md_file_is_atomic_tmp("compose.yaml.magos-tmp.aB-xY9"));
	assert_false(md_file_is_atomic_tmp("compose.yaml"));
}

static void test_remove_tree_keeps_symlink_targets(void **state)
{
	char *dir = tmpdir_new("md-rmtree-test");
	char *keep = md_asprintf("%s/keep", dir), *tree = md_asprintf("%s/tree", dir);
	char *sub = md_asprintf("%s/tree/a/b", dir), *file = md_asprintf("%s/tree/a/b/f", dir);
	char *link = md_asprintf("%s/tree/link", dir), *kept = md_asprintf("%s/keep/x", dir);
	struct md_err err;
	FILE *f;

	(void)state;
	assert_int_equal(md_mkdir_p(sub, 0700, &err), 0);
	assert_int_equal(md_mkdir_p(keep, 0700, &err), 0);
	f = fopen(file, "w");
	fclose(f);
	f = fopen(kept, "w");
	fclose(f);
	assert_int_equal(symlink(keep, link), 0);
	assert_int_equal(md_remove_tree(tree, &err), 0);
	assert_false(md_path_exists(tree));
	assert_true(md_path_exists(kept));
	assert_int_equal(md_remove_tree(tree, &err), 0); /* missing: fine */
	free(keep);
	free(tree);
	free(sub);
	free(file);
	free(link);
	free(kept);
	tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_held_names_holder),
		cmocka_unit_test(test_lock_error_names_path),
		cmocka_unit_test(test_atomic_tmp_names),
		cmocka_unit_test(test_remove_tree_keeps_symlink_targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
