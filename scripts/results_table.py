#!/usr/bin/env python3
"""One row of docs/RESULTS.md per run folder: preset, epochs run, epoch kept, minutes of training,
mean seconds of an epoch, best held-out log p(x), loss at E(z), success rates of MT and MN, and
the exact test log p(x).  Usage: scripts/results_table.py RUN [RUN ...]"""
import json, sys, csv
for d in sys.argv[1:]:
    m = json.load(open(f'{d}/manifest.json'))
    rows = list(csv.DictReader(open(f'{d}/train_log.csv')))
    sel = m['model'].get('selection', {})
    train_s = sum(float(r['seconds']) for r in rows)
    eval_s = sum(float(r.get('eval_seconds') or 0) for r in rows)
    out = [d, m['model']['train']['preset'], len(rows), sel.get('kept_epoch'), f"{m['model']['seconds']/60:.1f}", f"{train_s/len(rows):.1f}", sel.get('best_held_out')]
    try:
        a = json.load(open(f'{d}/analysis.json'))
        ls = a['latent_statistics']; sr = a['success_rate']
        meth = [s for s in a['spaces'] if s not in ('MT','MB','MA')][0]
        out += [f"{ls['MT']['loss']['mean']:.2f}", f"{100*sr['MT']['vs_original_prediction']['rate']:.2f}", f"{100*sr[meth]['vs_original_prediction']['rate']:.2f}"]
        lk = a.get('likelihood', {}).get('sets', {}).get('test')
        if lk: out.append(f"{lk['log_px']['mean']:.2f}")
    except Exception as e:
        out.append(f'no analysis ({e})')
    print(' | '.join(str(x) for x in out))
