set -o pipefail
. .whl/prep.sh
cd /tmp/w
L=$OUT/all.log
{ date -u; lscpu | grep -E "Model name|^CPU\(s\)|L3"; } 2>&1 | tee $L
for v in v3 v4a this; do timeout 120 python3 $REPO/.whl/one.py $v 16 2 $REPO 2>&1 | grep -v compiling >/dev/null; done
timeout 60 python3 $REPO/.whl/one.py this 1 2 $REPO >/dev/null 2>&1
for r in 1 2 3; do
  case $r in 1) o="v3 v4a this";; 2) o="this v3 v4a";; 3) o="v4a this v3";; esac
  for v in $o; do timeout 100 python3 $REPO/.whl/one.py $v 16 7 $REPO 2>&1 | grep '^{' | tee -a $OUT/rounds.jsonl | tee -a $L; done
  timeout 100 python3 $REPO/.whl/one.py this 1 5 $REPO 2>&1 | grep '^{' | tee -a $OUT/rounds.jsonl | tee -a $L
done
date -u | tee -a $L
