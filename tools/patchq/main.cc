// patchq: maintains the quilt series in patches/ + series against a kernel
// git tree whose first commit is tagged "base".
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tools/patchq/check.h"
#include "tools/patchq/error.h"
#include "tools/patchq/export.h"
#include "tools/patchq/files.h"
#include "tools/patchq/git.h"
#include "tools/patchq/import.h"
#include "tools/patchq/mbox.h"
#include "tools/patchq/rangediff.h"

namespace {

constexpr const char* kUsage = R"(usage: patchq COMMAND [--tree DIR] [--repo DIR] [options]

Maintains the quilt series (REPO/series + REPO/patches/*.patch) against a
kernel git tree whose first commit is tagged "base" (scripts/base-tree.sh).

Commands:
  export   write the tree's commits base..HEAD to patches/ and series
           (deterministic: fixed Date:, zero commit ids, full index; files
           whose bytes did not change are not touched, patches that left the
           series are removed; series keeps its leading comment lines and
           gets "# base-tree: <sha of base>")
             --dry-run     report what would change; exit 1 if anything would
  import   reset the tree to base and apply the series with git am, one
           commit per patch; author from the patch, committer = IDENTITY,
           author and committer date = the fixed date export writes (another
           Date: is taken as that, with a note), so the commits are the same
           on every machine
             --force       discard uncommitted changes / an unfinished git am
             --mbox FILE   apply a posted series instead (e.g. b4 am's
                           output): its patches, with the sender's From: and
                           Signed-off-by: given back to IDENTITY, so export
                           then writes the queue's bytes
             --sender "NAME <EMAIL>"  who posted it (default: git config)
  check    in a scratch copy of base (only the files the patches touch; a
           full git worktree with --build), for each patch in order: From: is
           IDENTITY, "subsystem: summary" subject, changelog body,
           Signed-off-by: IDENTITY, no message line starting "From ",
           well-formed diff, the tree's checkpatch.pl --strict clean, applies
           with quilt push --fuzz=0.  Prints PASS/FAIL per patch and
           "N passed, N failed"; exit 1 when anything failed.  Changelog
           style is reported as "warning:" lines: subject at most 75
           characters and starting with an imperative verb, the body's first
           sentence opening with one (what first, then why), a credit line
           ('Based on upstream commit <12 hex> ("subject")', or 'Link:
           https://git.kernel.org/...' or 'Link: https://lore.kernel.org/...')
             --strict-changelog  changelog problems fail the patch
             --checkpatch FILE  default TREE/scripts/checkpatch.pl, run as
                           perl FILE --strict --no-tree --terse --no-summary
                           --show-types --ignore FILE_PATH_CHANGES
                           --color=never PATCH (MAINTAINERS coverage of new
                           files is left to review;
                           --no-tree: the base tree has no upstream history,
                           so commit references could not be verified)
             --build       also build after each patch (bisectability) with
                           "scripts/kernel-build.sh --tree {dir} --out {out}"
                           (the project's build script; run in REPO)
             --build-cmd CMD  build with CMD instead (implies --build); split
                           on spaces, no shell; {dir} = scratch tree, {out} =
                           scratch build dir (kept across the run, so builds
                           are incremental), {patch} = patch file name
  mbox     the series as the sender posts it, made by git format-patch
           (--cover-letter --thread=shallow --base) from the tree's commits
           rewritten in a temporary outbox repository (the tree is only
           read): From: and Signed-off-by: are the sender's (git config
           user.name/user.email of REPO, else global; refused without one),
           replacing the project identity, which never reaches a mail;
           real dates, git's Message-Ids.  The cover letter: subject and
           body from the cover file, "Changes since vN-1", git's shortlog
           and diffstat, base-commit: and change-id: (series' "# change-id:")
             -v, --reroll-count N  [PATCH vN ...], as git: 1 to 999
                           (default: no version)
             --cover FILE  cover letter: subject line, blank line, body
                           (default REPO/patches/cover.txt)
             --changes FILE  the "Changes since vN-1" text (default
                           REPO/patches/changes-vN.txt when it exists)
             --to ADDR, --cc ADDR   add recipients (repeatable)
             --recipients none|auto  auto: To/Cc of each patch from the
                           tree's scripts/get_maintainer.pl --no-git
                           --no-git-fallback (offline; maintainers To,
                           reviewers and lists Cc; the cover gets them all)
             --get-maintainer FILE  instead of TREE/scripts/get_maintainer.pl
             -o FILE       write to FILE instead of stdout
  range-diff OLD NEW
           git range-diff of two versions of the series in the tree; each is
           A..B, or a revision (tag, branch, sha) R meaning base..R

Common options:
  --tree DIR   kernel git tree (default: REPO/out/linux)
  --repo DIR   project repository (default: the current git top-level)
  -h, --help   this text

Exit status: 0 ok, 1 check/dry-run found problems, 2 error (message says
where and what was expected).
)";

struct Args {
  std::string command;
  std::string tree, repo;
  bool force = false, dry_run = false, build = false;
  bool strict_changelog = false;
  std::string build_cmd, checkpatch, cover, changes, output, reroll, mbox, sender;
  std::string recipients = "none", get_maintainer;
  std::vector<std::string> to, cc;
  std::string old_version, new_version;
};

[[noreturn]] void UsageError(const std::string& msg) {
  std::cerr << "patchq: " << msg << "\n(see patchq --help)\n";
  std::exit(2);
}

// The command line, declared with CLI11: one subcommand per command, each
// with its own options; --tree and --repo (and -h) anywhere.
Args Parse(int argc, char** argv) {
  Args a;
  bool help = false;
  CLI::App app{"patchq"};
  app.set_help_flag();  // kUsage is the help text
  app.add_flag("-h,--help", help);
  app.add_option("--tree", a.tree);
  app.add_option("--repo", a.repo);
  app.require_subcommand(0, 1);

  CLI::App* exp = app.add_subcommand("export");
  exp->add_flag("--dry-run", a.dry_run);
  CLI::App* imp = app.add_subcommand("import");
  imp->add_flag("--force", a.force);
  imp->add_option("--mbox", a.mbox);
  imp->add_option("--sender", a.sender);
  CLI::App* chk = app.add_subcommand("check");
  chk->add_flag("--build", a.build);
  chk->add_option("--build-cmd", a.build_cmd);
  chk->add_option("--checkpatch", a.checkpatch);
  chk->add_flag("--strict-changelog", a.strict_changelog);
  CLI::App* mb = app.add_subcommand("mbox");
  mb->add_option("-v,--reroll-count", a.reroll);  // parsed by ParseRerollCount
  mb->add_option("--cover", a.cover);
  mb->add_option("--changes", a.changes);
  mb->add_option("--recipients", a.recipients)->check(CLI::IsMember({"none", "auto"}));
  mb->add_option("--get-maintainer", a.get_maintainer);
  mb->add_option("--to", a.to)->allow_extra_args(false);
  mb->add_option("--cc", a.cc)->allow_extra_args(false);
  mb->add_option("-o", a.output);
  CLI::App* rd = app.add_subcommand("range-diff");
  rd->add_option("old", a.old_version)->required();
  rd->add_option("new", a.new_version)->required();
  for (CLI::App* sub : {exp, imp, chk, mb, rd}) {
    sub->set_help_flag();
    sub->add_flag("-h,--help", help);
    sub->fallthrough();  // --tree, --repo after the command
  }

  // A first word that is no command gets a message that says so.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string first = argv[1];
    if (first != "export" && first != "import" && first != "check" && first != "mbox" && first != "range-diff")
      UsageError("unknown command '" + first + "'");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (help) {
      std::cout << kUsage;
      std::exit(0);
    }
    UsageError(e.what());
  }
  if (help) {
    std::cout << kUsage;
    std::exit(0);
  }
  for (CLI::App* sub : {exp, imp, chk, mb, rd})
    if (sub->parsed()) a.command = sub->get_name();
  if (a.command.empty()) UsageError("no command (export, import, check, mbox, range-diff)");
  if (!a.reroll.empty()) {
    try {
      patchq::ParseRerollCount(a.reroll);
    } catch (const patchq::Error& e) {
      UsageError(e.what());
    }
  }
  if (!a.build_cmd.empty()) a.build = true;
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  try {
    namespace fs = std::filesystem;
    // Under "bazel run", resolve relative paths and the default --repo from
    // where the user ran it, not from the runfiles tree.
    if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY"); wd && *wd) fs::current_path(wd);
    if (a.repo.empty()) a.repo = patchq::GitTopLevel(".");
    a.repo = fs::absolute(a.repo).lexically_normal().string();
    if (a.tree.empty()) a.tree = (fs::path(a.repo) / "out/linux").string();
    a.tree = fs::absolute(a.tree).lexically_normal().string();
    while (a.repo.size() > 1 && a.repo.back() == '/') a.repo.pop_back();
    while (a.tree.size() > 1 && a.tree.back() == '/') a.tree.pop_back();

    if (a.command == "export") {
      int changed = patchq::Export({a.tree, a.repo, a.dry_run}, std::cout);
      return a.dry_run && changed > 0 ? 1 : 0;
    }
    if (a.command == "import") {
      patchq::Import({a.tree, a.repo, a.force, a.mbox, a.sender}, std::cout);
      return 0;
    }
    if (a.command == "check") {
      patchq::CheckOptions o;
      o.tree = a.tree;
      o.repo = a.repo;
      o.checkpatch = a.checkpatch;
      o.strict_changelog = a.strict_changelog;
      if (a.build) o.build = patchq::SplitCommand(a.build_cmd.empty() ? patchq::kDefaultBuild : a.build_cmd);
      patchq::CheckResult r = patchq::Check(o, std::cout, std::cerr);
      return r.failed > 0 ? 1 : 0;
    }
    if (a.command == "range-diff") {
      std::cout << patchq::RangeDiff(a.tree, a.old_version, a.new_version);
      return 0;
    }
    patchq::MboxOptions o;
    o.tree = a.tree;
    o.repo = a.repo;
    o.reroll = a.reroll;
    o.cover_file = a.cover;
    o.changes_file = a.changes;
    o.to = a.to;
    o.cc = a.cc;
    o.recipients_auto = a.recipients == "auto";
    o.get_maintainer = a.get_maintainer;
    std::string text = patchq::Mbox(o, std::cerr);
    if (a.output.empty()) {
      std::cout << text;
    } else {
      patchq::WriteFile(a.output, text);
    }
    return 0;
  } catch (const patchq::Error& e) {
    std::cerr << "patchq " << a.command << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "patchq " << a.command << ": " << e.what() << "\n";
    return 2;
  }
}
