/**
 * Deploy asks which OS image, inline where the button was: the region's ready OS images (newest
 * first, the first one chosen), or how to get one when there are none. Nothing is sent until
 * the user confirms.
 */
import { useEffect, useState } from 'react';
import type { Image } from '../../api/types.ts';

interface Props {
  /** What is being deployed, for the legend: "node-3" or "4 machines". */
  what: string;
  listImages: () => Promise<Image[]>;
  onChoose: (image: string) => void;
  onCancel: () => void;
}

export function ImageChoice({ what, listImages, onChoose, onCancel }: Props) {
  const [images, setImages] = useState<Image[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState('');

  useEffect(() => {
    let live = true;
    listImages().then(
      (all) => {
        if (!live) return;
        const ready = all
          .filter((i) => i.kind === 'os' && i.status === 'ready')
          .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
        setImages(ready);
        setChosen(ready[0]?.name ?? '');
      },
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [listImages]);

  return (
    <fieldset className="confirm">
      <legend className="visually-hidden">Choose an image</legend>
      {error ? (
        <span className="text-error">Could not list the images: {error}</span>
      ) : images === null ? (
        <span>Loading images…</span>
      ) : images.length === 0 ? (
        <span>
          No OS image is ready. Build one with <code>ingot image build os --distro debian-12</code> or add one
          with <code>ingot image add NAME URL</code>.
        </span>
      ) : (
        <label>
          Deploy {what} with{' '}
          <select value={chosen} onChange={(e) => setChosen(e.target.value)}>
            {images.map((i) => (
              <option key={i.id} value={i.name}>
                {i.name} ({i.format}
                {i.compression === 'none' ? '' : `.${i.compression}`})
              </option>
            ))}
          </select>
        </label>
      )}
      {images && images.length > 0 && (
        <button type="button" onClick={() => onChoose(chosen)}>
          Deploy
        </button>
      )}
      <button type="button" className="ghost" onClick={onCancel}>
        Cancel
      </button>
    </fieldset>
  );
}
