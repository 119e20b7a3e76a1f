package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/app"
	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/ledger/checkpoint"
	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/ledger/witness"
	"github.com/shuzhi-gov/shuzhi/internal/platform/config"
)

// errFailed makes the command exit non-zero after it printed its findings.
var errFailed = errors.New("verification failed")

// ProofFile is what `ledger prove` prints: everything a third party needs to
// check the entry offline against a signed checkpoint.
type ProofFile struct {
	Index      int64    `json:"index"`
	Size       int64    `json:"size"`
	Hasher     string   `json:"hasher"`
	Entry      string   `json:"entry" doc:"the entry exactly as logged"`
	LeafHash   string   `json:"leafHash"`
	Proof      []string `json:"proof"`
	Checkpoint string   `json:"checkpoint" doc:"signed note of the tree of this size"`
	LogKey     string   `json:"logKey" doc:"the log's verifier key (obtain it independently to check)"`
}

func ledgerCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("ledger: want verify, prove, check or witness-add")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("ledger "+sub, "ledger "+sub+" [options] [settings]", stderr)
	switch sub {
	case "verify":
		cfg, err := config.Load(fs, args, env)
		if err != nil {
			return err
		}
		d, prof, err := app.OpenStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer d.Close()
		start := time.Now()
		rep, err := ledger.Verify(ctx, d, prof, cfg.LedgerOrigin, app.CheckpointFile(cfg))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ledger %s: %d entries, %d checkpoints checked in %s\n", cfg.LedgerOrigin, rep.Entries, rep.Checkpoints, time.Since(start).Round(time.Millisecond))
		for _, p := range rep.Problems {
			if p.Index >= 0 {
				fmt.Fprintf(stdout, "  entry %d: %s\n", p.Index, p.What)
			} else {
				fmt.Fprintf(stdout, "  %s\n", p.What)
			}
		}
		if !rep.OK() {
			fmt.Fprintf(stdout, "FAILED: %d problems\n", len(rep.Problems))
			return errFailed
		}
		fmt.Fprintln(stdout, "OK: every entry, hash and checkpoint is consistent")
		return nil
	case "prove":
		size := fs.Int64("size", 0, "tree size to prove against (default: the latest checkpoint)")
		var rest []string
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") { // entry first, flags after
			rest, args = args[:1], args[1:]
		}
		cfg, err := config.Load(fs, args, env)
		if err != nil {
			return err
		}
		rest = append(rest, fs.Args()...)
		if len(rest) != 1 {
			return fmt.Errorf("ledger prove: want one entry index or 64-hex-digit leaf hash")
		}
		d, prof, err := app.OpenStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer d.Close()
		l, err := ledger.Open(ctx, d, prof, ledger.Options{Origin: cfg.LedgerOrigin, ReadOnly: true})
		if err != nil {
			return err
		}
		pf, err := prove(ctx, l, rest[0], *size)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(pf)
	case "check":
		vkey := fs.String("vkey", "", "the log's verifier key, obtained independently (default: trust the one in the file)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("ledger check: want the file printed by ledger prove (- for standard input)")
		}
		var b []byte
		var err error
		if fs.Arg(0) == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(fs.Arg(0))
		}
		if err != nil {
			return err
		}
		return checkProof(b, *vkey, stdout)
	case "witness-add":
		vkey := fs.String("vkey", "", "the witness's verifier key (printed by shuzhi witness key)")
		core, _, err := openCore(ctx, fs, args, stderr, env)
		if err != nil {
			return err
		}
		defer core.Close()
		w, err := core.Ledger.AddWitness(ctx, *vkey)
		if err != nil {
			return err
		}
		if _, err := core.Ledger.Append(ctx, ledger.Record{ActorKind: "system", ActorID: "cli:" + currentUser(), ActorName: "cli:" + currentUser(),
			Module: "ledger", Action: "witness.add", Subject: "witness:" + w.Name, Purpose: "ledger witnessing"}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "witness %s registered\n", w.Name)
		return nil
	}
	return fmt.Errorf("ledger: unknown subcommand %q (want verify, prove, check or witness-add)", sub)
}

func prove(ctx context.Context, l *ledger.Log, ref string, size int64) (*ProofFile, error) {
	var index int64
	if len(ref) == 64 {
		i, err := l.FindLeaf(ctx, ref)
		if err != nil {
			return nil, err
		}
		index = i
	} else {
		i, err := strconv.ParseInt(ref, 10, 64)
		if err != nil || i < 0 {
			return nil, fmt.Errorf("ledger prove: %q is neither an entry index nor a leaf hash", ref)
		}
		index = i
	}
	signed, err := l.LatestCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	lv, err := l.Verifier()
	if err != nil {
		return nil, err
	}
	cp, err := checkpoint.Verify(signed, lv)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		size = int64(cp.Size)
	}
	if size != int64(cp.Size) {
		return nil, fmt.Errorf("ledger prove: only the latest checkpoint (size %d) is signed for offline checks", cp.Size)
	}
	if index >= size {
		return nil, fmt.Errorf("ledger prove: entry %d is not yet in a checkpoint (size %d); try again in a second", index, size)
	}
	p, err := l.ProveInclusion(ctx, index, size)
	if err != nil {
		return nil, err
	}
	e, err := l.Entry(ctx, index)
	if err != nil {
		return nil, err
	}
	return &ProofFile{Index: index, Size: size, Hasher: p.Hasher, Entry: string(e.Data), LeafHash: p.LeafHash, Proof: p.Proof,
		Checkpoint: string(signed), LogKey: l.VerifierKey()}, nil
}

// checkProof checks a ProofFile offline: the checkpoint's signature, the
// entry's leaf hash, and the inclusion proof against the signed root.
func checkProof(b []byte, vkey string, stdout io.Writer) error {
	var pf ProofFile
	if err := json.Unmarshal(b, &pf); err != nil {
		return fmt.Errorf("ledger check: not a proof file: %w", err)
	}
	if vkey == "" {
		vkey = pf.LogKey
		fmt.Fprintln(stdout, "warning: trusting the log key inside the file; pass --vkey with a key obtained independently")
	}
	v, err := checkpoint.ParseVerifierKey(vkey)
	if err != nil {
		return err
	}
	cp, err := checkpoint.Verify([]byte(pf.Checkpoint), v)
	if err != nil {
		fmt.Fprintf(stdout, "FAILED: the checkpoint is not signed by %s: %v\n", v.Name(), err)
		return errFailed
	}
	h, err := merkle.HasherByName(pf.Hasher)
	if err != nil {
		return err
	}
	leaf := h.LeafHash([]byte(pf.Entry))
	if hex.EncodeToString(leaf[:]) != pf.LeafHash {
		fmt.Fprintln(stdout, "FAILED: the entry does not hash to the stated leaf hash")
		return errFailed
	}
	var proof merkle.RecordProof
	for _, s := range pf.Proof {
		hh, err := merkle.ParseHash(s)
		if err != nil {
			return err
		}
		proof = append(proof, hh)
	}
	if int64(cp.Size) != pf.Size {
		fmt.Fprintf(stdout, "FAILED: the proof is for size %d, the checkpoint for %d\n", pf.Size, cp.Size)
		return errFailed
	}
	if err := merkle.CheckRecord(h, proof, pf.Size, cp.Root, pf.Index, leaf); err != nil {
		fmt.Fprintf(stdout, "FAILED: entry %d is not in the tree of checkpoint %s size %d: %v\n", pf.Index, cp.Origin, cp.Size, err)
		return errFailed
	}
	fmt.Fprintf(stdout, "OK: entry %d is in the log %s of size %d (root %x, %s), signed by %s\n", pf.Index, cp.Origin, cp.Size, cp.Root[:8], pf.Hasher, v.Name())
	return nil
}

func witnessCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("witness: want key or run")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("witness "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the witness's name, e.g. audit.gusu.gov.cn/witness")
	dir := fs.String("dir", "./witness", "directory for the witness key and what it saw")
	logURL := fs.String("log", "http://127.0.0.1:8080", "base URL of the Shuzhi node to witness")
	logKey := fs.String("log-vkey", "", "the log's verifier key (default: pinned on first contact)")
	every := fs.Duration("interval", 10*time.Second, "how often to check the log")
	once := fs.Bool("once", false, "check once and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w, err := witness.Open(witness.Config{LogURL: *logURL, Name: *name, Dir: *dir, LogVKey: *logKey})
	if err != nil {
		return err
	}
	switch sub {
	case "key":
		fmt.Fprintln(stdout, w.VerifierKey())
		return nil
	case "run":
	default:
		return fmt.Errorf("witness: unknown subcommand %q (want key or run)", sub)
	}
	for {
		res, err := w.Step(ctx)
		var split *checkpoint.SplitViewError
		var rollback *checkpoint.RollbackError
		var inconsistent *checkpoint.InconsistentError
		switch {
		case errors.As(err, &split), errors.As(err, &rollback), errors.As(err, &inconsistent):
			fmt.Fprintf(stdout, "ALERT: %v\n", err)
			return fmt.Errorf("the log at %s misbehaved: %w", *logURL, err)
		case err != nil:
			fmt.Fprintf(stderr, "witness: %v\n", err)
		case res.Grew:
			fmt.Fprintf(stdout, "%s cosigned size %d\n", time.Now().Format(time.RFC3339), res.Size)
		}
		if *once {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*every):
		}
	}
}
