# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-agent: T_* come from the task; busybox ash has local
# Task write-image: stream (raw) or fetch-verify-convert (qcow2) the image to the disk, checksum
# checked, grow the root partition, write the cloud-init seed that points the OS at the rack.
target_disk() {
  if [ -n "$T_DISK" ]; then echo "${T_DISK#/dev/}"; return; fi
  disks | head -n 1
}
# image_fetch: the image to stdout. The rack's own images need the boot token and the rack's
# pin; another server's (an image URL) gets neither.
image_fetch() {
  case "$T_URL" in
    "$URL"/*) curl -K "$TLSCFG" -H @"$HDR" -fsS --retry 3 "$T_URL" ;;
    *) curl -fsS --retry 3 "$T_URL" ;;
  esac
}
# trust_rack ROOT: the deployed OS reaches the rack over HTTPS (cloud-init's seed, phone_home,
# bundle installs): the rack's certificate, fetched over the pinned connection, joins the OS's
# trust store — in the bundle curl and Python read, and where update-ca-certificates keeps it.
trust_rack() {
  [ -n "$PIN" ] || return 0
  curl -K "$TLSCFG" -fsS -o "$RUN/rack.crt" "$URL/tls/rack.crt" || die "could not fetch the rack's certificate for the deployed OS"
  mkdir -p "$1/usr/local/share/ca-certificates" "$1/etc/ssl/certs"
  cp "$RUN/rack.crt" "$1/usr/local/share/ca-certificates/ingot-rack.crt"
  cat "$RUN/rack.crt" >>"$1/etc/ssl/certs/ca-certificates.crt"
  chmod 644 "$1/usr/local/share/ca-certificates/ingot-rack.crt" "$1/etc/ssl/certs/ca-certificates.crt"
}
# install_node_agent ROOT: Ingot's node agent (src/agent/node/; this boot image carries it under
# /usr/share/ingot/node-agent, rooted like the OS) into a written OS that runs systemd, enabled:
# it dials the rack with the OS token from the seed and never listens. An OS without systemd
# gets none (said in the result). Prints what it did.
NODE_AGENT_STAGE=${INGOT_NODE_AGENT_STAGE:-/usr/share/ingot/node-agent}
install_node_agent() {
  [ -d "$NODE_AGENT_STAGE" ] || { echo "no node agent in this boot image"; return 0; }
  [ -d "$1/etc/systemd/system" ] || { echo "no node agent: the OS has no systemd"; return 0; }
  (cd "$NODE_AGENT_STAGE" && find . -type f) | while read -r f; do
    f=${f#./}
    mkdir -p "$1/$(dirname "$f")" && cp -p "$NODE_AGENT_STAGE/$f" "$1/$f" || exit 1
  done || return 1
  mkdir -p "$1/etc/systemd/system/multi-user.target.wants"
  ln -sf /etc/systemd/system/ingot-node-agent.service "$1/etc/systemd/system/multi-user.target.wants/ingot-node-agent.service"
  echo "node agent installed and enabled"
}
# The image checksum: OpenSSL's SHA-256 (assembly) where present, else busybox's.
sha256() { if command -v openssl >/dev/null; then openssl dgst -sha256 -r; else sha256sum; fi; }

decompressor() {
  case "$T_COMPRESSION" in
    '' | none) echo cat ;;
    gz | gzip) echo "gzip -dc" ;;
    xz) echo "xz -dc" ;;
    zst | zstd) echo "zstd -dc" ;;
    *) die "unknown compression $T_COMPRESSION" ;;
  esac
}
# Grows the partition that ends last on the disk to the end of the disk (GPT via sgdisk, MBR via sfdisk).
grow_root() {
  d=$1
  blockdev --rereadpt "/dev/$d" 2>/dev/null
  if sgdisk -p "/dev/$d" 2>/dev/null | grep -q 'GPT: present'; then
    sgdisk -e "/dev/$d" >/dev/null 2>&1 || true
    last=$(sgdisk -p "/dev/$d" | awk '/^ +[0-9]+ +[0-9]+ +[0-9]+/ { if ($3 > e) { e = $3; n = $1 } } END { print n }')
    [ -n "$last" ] || return 0
    info=$(sgdisk -i "$last" "/dev/$d")
    start=$(echo "$info" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
    code=$(echo "$info" | sed -n 's/^Partition GUID code: \([0-9A-Fa-f-]*\).*/\1/p')
    guid=$(echo "$info" | sed -n 's/^Partition unique GUID: \([0-9A-Fa-f-]*\).*/\1/p')
    name=$(echo "$info" | sed -n "s/^Partition name: '\(.*\)'/\1/p")
    attrs=$(echo "$info" | sed -n 's/^Attribute flags: \([0-9a-f]*\).*/\1/p')
    sgdisk -d "$last" -n "$last:$start:0" -t "$last:$code" -u "$last:$guid" -c "$last:$name" \
      ${attrs:+-A "$last:=:$attrs"} "/dev/$d" >/dev/null || die "sgdisk could not grow partition $last"
  else
    last=$(sfdisk -d "/dev/$d" 2>/dev/null | awk -F'[ :,=]+' '/^\/dev\// { for (i = 1; i <= NF; i++) { if ($i == "start") s = $(i + 1); if ($i == "size") z = $(i + 1) } if (s + z > e) { e = s + z; n = $1 } } END { print n }')
    [ -n "$last" ] || return 0
    num=$(echo "$last" | sed 's/.*[^0-9]\([0-9]*\)$/\1/')
    echo ', +' | sfdisk -q -N "$num" --no-reread "/dev/$d" >/dev/null 2>&1 || die "sfdisk could not grow partition $num"
  fi
  blockdev --rereadpt "/dev/$d" 2>/dev/null
  sleep 1
  echo "$last"
}
# Points cloud-init in the written OS at the rack's metadata service, and phone_home at the rack.
write_seed() {
  d=$1
  modprobe -q -a ext4 xfs vfat 2>/dev/null
  mkdir -p /mnt/root
  for p in $(ls -d "/sys/block/$d/$d"* 2>/dev/null); do
    dev=/dev/${p##*/}
    mount "$dev" /mnt/root 2>/dev/null || continue
    if [ -f /mnt/root/etc/os-release ]; then
      (trust_rack /mnt/root) || { umount /mnt/root; die "could not fetch the rack's certificate for the deployed OS"; }
      mkdir -p /mnt/root/etc/cloud/cloud.cfg.d
      umask 077
      cat >/mnt/root/etc/cloud/cloud.cfg.d/95-ingot-agent.cfg <<CFG
# Written by the Ingot agent: user-data and meta-data come from the rack's metadata service.
datasource_list: [ NoCloud, None ]
datasource:
  NoCloud:
    seedfrom: $T_METADATA_URL${T_OS_TOKEN:-$TOKEN}/
phone_home:
  url: $T_OS_BOOTED_URL${T_OS_TOKEN:-$TOKEN}
  post: [ instance_id, hostname, fqdn ]
  tries: 20
CFG
      # The machine's network-config (netplan v2, checked by the region with netplan and
      # cloud-init): as cloud-init's system `network:` config, which it renders and applies at
      # first boot, before the network comes up (the NoCloud-net seed is only read after).
      rm -f /mnt/root/etc/cloud/cloud.cfg.d/96-ingot-network.cfg
      if [ -n "${T_NETWORK_CONFIG:-}" ]; then
        {
          echo "# Written by the Ingot agent: this machine's network-config (netplan v2), applied by cloud-init."
          printf '%s\n' "$T_NETWORK_CONFIG"
        } >/mnt/root/etc/cloud/cloud.cfg.d/96-ingot-network.cfg
      fi
      umask 022
      install_node_agent /mnt/root >"$RUN/node-agent" || { umount /mnt/root; die "could not install the node agent into the deployed OS"; }
      os=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}/\1/p' /mnt/root/etc/os-release)
      sync
      umount /mnt/root
      echo "$dev ($os)"
      return 0
    fi
    umount /mnt/root
  done
  die "no partition of /dev/$d holds an OS root (etc/os-release) to write the cloud-init seed to"
}
do_write_image() {
  d=$(target_disk)
  [ -n "$d" ] && [ -b "/dev/$d" ] || die "no target disk (asked for '${T_DISK:-first disk}')"
  [ -n "$T_URL" ] && [ -n "$T_SHA256" ] || die "the task has no image URL or checksum"
  dec=$(decompressor) || exit 1
  size=${T_SIZE_BYTES:-}
  t0=$(cut -d' ' -f1 /proc/uptime)
  base0=$(sectors_written "$d")
  sparse=
  set -o pipefail
  if [ "$T_FORMAT" = qcow2 ]; then
    # qcow2 cannot be converted from a pipe: fetch into RAM, verify, then convert to the disk.
    avail=$(awk '/^MemAvailable:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
    [ -z "$size" ] || [ "$size" -lt $((avail - 96 * 1048576)) ] ||
      die "the qcow2 image ($((size / 1048576)) MiB) does not fit in RAM ($((avail / 1048576)) MiB free); deploy a raw (optionally compressed) image instead"
    progress "downloading ${T_IMAGE_NAME:-the qcow2 image} into RAM"
    image_fetch | tee "$RUN/image.qcow2.z" | sha256 >"$RUN/sum" || die "download of $T_URL failed"
    got=$(cut -d' ' -f1 "$RUN/sum")
    [ "$got" = "$T_SHA256" ] || { rm -f "$RUN/image.qcow2.z"; die "checksum mismatch: expected $T_SHA256, got $got (the image was not written)"; }
    if [ "$dec" != cat ]; then $dec "$RUN/image.qcow2.z" >"$RUN/image.qcow2" && rm -f "$RUN/image.qcow2.z"; else mv "$RUN/image.qcow2.z" "$RUN/image.qcow2"; fi
    vsize=$(qemu-img info --output=json "$RUN/image.qcow2" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
    dsize=$(($(cat "/sys/block/$d/size") * 512))
    [ "${vsize:-0}" -le "$dsize" ] || die "the image ($vsize bytes) is larger than /dev/$d ($dsize bytes)"
    progress "converting the qcow2 image to /dev/$d"
    watch_writes "$d" "$vsize" &
    w=$!
    qemu-img convert -f qcow2 -O raw -t none -W "$RUN/image.qcow2" "/dev/$d" 2>"$RUN/qemu-img.err" ||
      { kill $w; die "qemu-img convert failed: $(tail -n 1 "$RUN/qemu-img.err")"; }
    kill $w 2>/dev/null
    rm -f "$RUN/image.qcow2"
  else
    # Zeros are not written: the image's range is zeroed by the disk first (BLKZEROOUT: Write
    # Zeroes / WRITE SAME where the disk has it, else the kernel writes zeros without our
    # pipeline), then dd seeks over all-zero blocks — a third to a half of an OS image, and the
    # write is the deploy's longest step (the disk still reads back exactly the image).
    # util-linux and coreutils by path: busybox ash runs its own applets first.
    sparse=
    if [ -n "$size" ] && [ $((size % 4096)) = 0 ] &&
      [ "$size" -le $(($(cat "/sys/block/$d/size") * 512)) ]; then
      progress "zeroing the image's $((size / 1048576)) MiB on /dev/$d"
      /usr/bin/blkdiscard -f -z -o 0 -l "$size" "/dev/$d" 2>"$RUN/zero.err" && sparse=,sparse
    fi
    base0=$(sectors_written "$d")
    progress "streaming ${T_IMAGE_NAME:-the image} to /dev/$d"
    rm -f "$RUN/sumfifo"
    mkfifo "$RUN/sumfifo"
    sha256 <"$RUN/sumfifo" >"$RUN/sum" &
    s=$!
    watch_writes "$d" "$size" "$RUN/dd.err" &
    w=$!
    image_fetch | tee "$RUN/sumfifo" | $dec | /usr/bin/dd of="/dev/$d" bs=1M iflag=fullblock conv=fsync$sparse status=progress 2>"$RUN/dd.err"
    rc=$?
    kill $w 2>/dev/null
    wait $s
    [ $rc = 0 ] || { quick_wipe "$d"; die "streaming the image failed: $(dd_error "$RUN/dd.err")"; }
    got=$(cut -d' ' -f1 "$RUN/sum")
    if [ "$got" != "$T_SHA256" ]; then
      quick_wipe "$d"
      die "checksum mismatch: expected $T_SHA256, got $got (the disk was wiped again)"
    fi
  fi
  written=$((($(sectors_written "$d") - base0) * 512))
  image=${size:-$written}
  [ -z "$sparse" ] || image=$(dd_position "$RUN/dd.err")
  sync
  t1=$(cut -d' ' -f1 /proc/uptime)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  rate=$(awk -v w="${image:-0}" -v s="$secs" 'BEGIN { if (s <= 0) s = 0.1; printf "%.1f", w / 1048576 / s }')
  event write-image.written info "wrote $((${image:-0} / 1048576)) MiB to /dev/$d in $secs s ($rate MiB/s${sparse:+; $((${written:-0} / 1048576)) MiB of data, the zeros left to the disk}), checksum verified" \
    "{\"disk\":\"$d\",\"bytes\":$(jnum "$image"),\"dataBytes\":$(jnum "$written"),\"seconds\":$secs,\"mibps\":$rate}"
  progress "growing the root partition"
  part=$(grow_root "$d") || exit 1
  progress "writing the cloud-init seed"
  root=$(write_seed "$d") || exit 1
  printf '{"disk":"%s","bytes":%s,"seconds":%s,"mibps":%s,"sha256":"%s","root":%s}' \
    "$d" "$(jnum "$image")" "$secs" "$rate" "$T_SHA256" "$(jstr "$root")" >"$RUN/result"
  printf '%s' "image on /dev/$d ($rate MiB/s), root $root grown, cloud-init seed${T_NETWORK_CONFIG:+ and network-config} written, $(cat "$RUN/node-agent" 2>/dev/null)" >"$RUN/message"
}
